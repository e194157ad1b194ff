// The shared pieces of lmlab's pages (src/core/html.h).
#include "core/html.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "core/build_info.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace {

const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{font-family:monospace;white-space:nowrap}td.val{font-family:monospace;word-break:break-word}
tr.group th{background:#e4e9f2}tr.changed td{background:#fff3cd}
.pass{background:#d7f5d7;color:#0a5a0a;font-weight:bold}.fail{background:#fbd5d5;color:#8a0b0b;font-weight:bold}
.meta{color:#555}.summary{font-size:1.15em}
.alert{border:2px solid #c22;background:#fff0f0;padding:.6em 1em;margin:1em 0}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow-x:auto;white-space:pre-wrap}
figure{margin:1em 0}figure img{max-width:100%;height:auto}
figcaption{font-weight:bold;color:#444}
.pair{display:flex;gap:1em}.pair>figure{flex:1;min-width:0}
.grid{display:flex;flex-wrap:wrap;gap:.5em 1em}.grid>figure{width:400px;margin:.5em 0}.grid figcaption{font-weight:normal}
:target{outline:3px solid #f0a020}
)";

}  // namespace

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string id_token(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "~%02X", c);
      out += hex;
    }
  }
  return out;
}

namespace {

// RFC 4648 base64 of `bytes`, with '=' padding.
std::string base64(const std::string& bytes) {
  static const char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t word = 0;
    for (size_t k = 0; k < 3; ++k) word = word << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kDigits[word >> (18 - 6 * k) & 63] : '=';
  }
  return out;
}

}  // namespace

std::string svg_image(const std::string& svg, const std::string& alt) {
  if (svg.find("<svg") == std::string::npos) return "";
  return "<img alt=\"" + escape(alt) + "\" src=\"data:image/svg+xml;base64," + base64(svg) + "\">";
}

void write_figure(std::ostream& html, const std::string& id, const std::string& caption, const std::string& svg) {
  const std::string markup = svg_image(svg, caption);
  html << "<figure" << (id.empty() ? "" : " id=\"" + escape(id) + "\"") << "><figcaption>" << escape(caption)
       << "</figcaption>\n"
       << (markup.empty() ? "<p class=\"fail\">not an SVG file</p>" : markup) << "\n</figure>\n";
}

void write_part(std::ostream& html, const std::function<void(std::ostream&)>& part) {
  std::ostringstream out;
  try {
    part(out);
  } catch (const DataError& e) {
    html << "<p class=\"fail\">not shown: " << escape(e.what()) << "</p>\n";
    return;
  }
  html << out.str();
}

void open_page(std::ostream& html, const std::string& title) {
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" << escape(title)
       << "</title>\n<style>" << kStyle << "</style></head><body>\n<h1>" << escape(title) << "</h1>\n"
       << "<p class=\"meta\">" << date << " &middot; lmlab " << build_version() << " (git " << build_git_sha()
       << ")</p>\n";
}

void close_page(std::ostream& html) { html << "</body></html>\n"; }

}  // namespace lmlab
