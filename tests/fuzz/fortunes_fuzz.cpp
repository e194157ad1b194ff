// A fortunes topic file as load_fortunes reads it: documents are split at lines holding only '%';
// none may be blank or hold such a line.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fuzz_target.h"
#include "lmlab/core/error.h"
#include "lmlab/data/text_corpus.h"

LMLAB_FUZZ_TARGET(fortunes) {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("lmlab_fortunes_fuzz_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "topic", std::ios::binary).write(reinterpret_cast<const char*>(data), size);
  try {
    for (const lmlab::Document& doc : lmlab::load_fortunes(dir.string())) {
      if (doc.text.find_first_not_of(" \t\r\n\f\v") == std::string::npos)
        lmlab::fuzz::property_broken("a blank document");
      if (doc.text == "%" || doc.text.rfind("%\n", 0) == 0 || doc.text.find("\n%\n") != std::string::npos)
        lmlab::fuzz::property_broken("a document holds a separator line");
    }
  } catch (const lmlab::Error&) {
  }
  std::filesystem::remove_all(dir);
  return 0;
}
