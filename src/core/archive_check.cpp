// The container check of read_archive_file / read_archive_bytes (include/lmlab/core/archive.h).
//
// LibTorch 1.13's reader trusts what a file says about itself: it allocates each zip entry's
// declared size before reading it, and its unpickler reserves the lengths and memo indices written
// in data.pkl. A corrupt file can so ask for gigabytes (found by tests/fuzz/checkpoint_fuzz.cpp:
// BINUNICODE of length 2^32 - 1). This check reads the zip's central directory and walks every
// pickle's opcodes first, and refuses what no LibTorch-written file holds:
//   * an entry that does not lie inside the file, a stored entry whose sizes differ, a deflated
//     one claiming more than deflate's 1032:1 ratio, a method other than stored or deflate;
//   * a compressed pickle (LibTorch stores them), an opcode LibTorch's unpickler does not know (or
//     GET and PUT, whose memo index is text), a length that runs past the pickle's end, a memo
//     index larger than the pickle;
//   * TorchScript code other than what OutputArchive writes (class declarations of attributes
//     and their types, nothing else): LibTorch compiles the code/ records of the file while loading,
//     and its compiler crashes on some malformed type expressions (a SEGV in
//     ScriptTypeParser::parseClassConstant, found by the same target).
// It reads only the directory and the pickles (kilobytes), whatever the size of the tensors.
#include "core/archive_check.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

uint64_t little_endian(const std::string& bytes, size_t at, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

struct Checker {
  const ReadAt& read;
  uint64_t size;
  const std::string& what;
  const std::string& fix;

  [[noreturn]] void fail(const std::string& why) const {
    throw DataError(what + " is corrupt (" + why + "); it is not a file lmlab wrote: " + fix);
  }
  // `n` bytes at `offset`, which must lie inside the file.
  std::string bytes(uint64_t offset, uint64_t n) const {
    if (offset > size || n > size - offset) fail("a zip record runs past the end of the file");
    std::string out = read(offset, static_cast<size_t>(n));
    if (out.size() != n) fail("the file cannot be read to its end");
    return out;
  }

  void check() const {
    // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
    const uint64_t tail_size = std::min<uint64_t>(size, 65557);
    const std::string tail = bytes(size - tail_size, tail_size);
    size_t eocd = std::string::npos;
    for (size_t i = tail.size() >= 22 ? tail.size() - 22 + 1 : 0; i-- > 0;)
      if (tail.compare(i, 4, "PK\x05\x06", 4) == 0) {
        eocd = i;
        break;
      }
    if (eocd == std::string::npos) fail("no zip directory at its end: truncated?");
    uint64_t entries = little_endian(tail, eocd + 10, 2), dir_size = little_endian(tail, eocd + 12, 4),
             dir_offset = little_endian(tail, eocd + 16, 4);
    // Like miniz (LibTorch's zip reader), a zip64 locator right before that record wins, whatever
    // the record says (LibTorch writes zip64 directories; a check of the other one let a corrupt
    // zip64 directory through, the `packed` fuzz target found).
    const uint64_t eocd_at = size - tail_size + eocd;
    const std::string loc = eocd_at >= 20 ? bytes(eocd_at - 20, 20) : std::string();
    if (loc.size() == 20 && loc.compare(0, 4, "PK\x06\x07", 4) == 0) {
      const std::string record = bytes(little_endian(loc, 8, 8), 56);
      if (record.compare(0, 4, "PK\x06\x06", 4) != 0) fail("a broken zip64 directory");
      entries = little_endian(record, 32, 8), dir_size = little_endian(record, 40, 8);
      dir_offset = little_endian(record, 48, 8);
    } else if (entries == 0xffff || dir_size == 0xffffffff || dir_offset == 0xffffffff) {
      fail("a zip64 directory without its locator");
    }
    if (entries > dir_size / 46) fail("more zip entries than its directory can hold");
    const std::string dir = bytes(dir_offset, dir_size);
    size_t at = 0;
    for (uint64_t e = 0; e < entries; ++e) at = check_entry(dir, at);
  }

  // The central directory entry at `at` of `dir`; returns where the next one starts.
  size_t check_entry(const std::string& dir, size_t at) const {
    if (at + 46 > dir.size() || dir.compare(at, 4, "PK\x01\x02", 4) != 0) fail("a broken zip directory entry");
    const uint64_t method = little_endian(dir, at + 10, 2), name_size = little_endian(dir, at + 28, 2),
                   extra_size = little_endian(dir, at + 30, 2), comment_size = little_endian(dir, at + 32, 2);
    uint64_t packed = little_endian(dir, at + 20, 4), unpacked = little_endian(dir, at + 24, 4),
             local = little_endian(dir, at + 42, 4);
    if (at + 46 + name_size + extra_size + comment_size > dir.size()) fail("a broken zip directory entry");
    const std::string name = dir.substr(at + 46, name_size);
    // zip64 sizes and offset, in this order, for the fields that hold 0xffffffff.
    for (size_t x = at + 46 + name_size; x + 4 <= at + 46 + name_size + extra_size;) {
      const uint64_t id = little_endian(dir, x, 2), n = little_endian(dir, x + 2, 2);
      if (x + 4 + n > at + 46 + name_size + extra_size) fail("a broken zip extra field in '" + name + "'");
      size_t field = x + 4;
      for (uint64_t* v : {&unpacked, &packed, &local})
        if (id == 1 && *v == 0xffffffff && field + 8 <= x + 4 + n) *v = little_endian(dir, field, 8), field += 8;
      x += 4 + n;
    }
    if (method != 0 && method != 8) fail("zip entry '" + name + "' uses compression method " + std::to_string(method));
    if (method == 0 && packed != unpacked) fail("stored zip entry '" + name + "' has two sizes");
    if (method == 8 && unpacked / 1032 > packed + 1) fail("zip entry '" + name + "' claims more than deflate can expand");
    const std::string header = bytes(local, 30);
    if (header.compare(0, 4, "PK\x03\x04", 4) != 0) fail("zip entry '" + name + "' has no local header");
    const uint64_t data = local + 30 + little_endian(header, 26, 2) + little_endian(header, 28, 2);
    if (data > size || packed > size - data) fail("zip entry '" + name + "' runs past the end of the file");
    if (ends_with(name, ".pkl")) {
      if (method != 0) fail("pickle '" + name + "' is compressed");
      check_pickle(bytes(data, packed), name);
    }
    if (ends_with(name, ".py")) {
      if (unpacked > kMaxCodeBytes) fail("code record '" + name + "' is larger than lmlab writes");
      check_code(method == 0 ? bytes(data, packed) : inflated(bytes(data, packed), unpacked, name), name);
    }
    return at + 46 + name_size + extra_size + comment_size;
  }

  static bool ends_with(const std::string& s, const char* end) {
    const size_t n = std::char_traits<char>::length(end);
    return s.size() >= n && s.compare(s.size() - n, n, end) == 0;
  }
  static constexpr uint64_t kMaxCodeBytes = uint64_t{16} << 20;

  // A raw deflate stream that must expand to exactly `size` bytes.
  std::string inflated(const std::string& packed, uint64_t size, const std::string& name) const {
    std::string out(size, '\0');
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("zlib cannot start");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    z.avail_in = static_cast<uInt>(packed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int status = inflate(&z, Z_FINISH);
    const uint64_t produced = z.total_out;
    inflateEnd(&z);
    if (status != Z_STREAM_END || produced != size) fail("code record '" + name + "' does not inflate to its size");
    return out;
  }

  // Each line one of those OutputArchive's modules are declared with:
  //   class Module(Module):
  //     __parameters__ = ["name", ...]      (also __buffers__; __annotations__ = [])
  //     name : TYPE                         (also __annotations__["key"] = TYPE)
  // TYPE: int, float, bool, str, Tensor, NoneType, __torch__[.___torch_mangle_N].Module, or
  // Tuple[..], List[..], Optional[..], Dict[str, ..] of those, nested at most 8 deep.
  void check_code(const std::string& code, const std::string& name) const {
    size_t begin = 0;
    while (begin < code.size()) {
      size_t end = code.find('\n', begin);
      if (end == std::string::npos) end = code.size();
      const std::string line = code.substr(begin, end - begin);
      begin = end + 1;
      if (!code_line(line)) fail("code record '" + name + "' holds '" + line.substr(0, 80) + "', which lmlab does not write");
    }
  }

  static bool code_line(const std::string& line) {
    if (line.empty() || line == "class Module(Module):" || line == "  __annotations__ = []") return true;
    size_t at = 0;
    const auto take = [&](const char* text) {
      const size_t n = std::char_traits<char>::length(text);
      if (line.compare(at, n, text) != 0) return false;
      at += n;
      return true;
    };
    const auto quoted = [&] {  // "..." without quotes or backslashes inside
      if (!take("\"")) return false;
      const size_t close = line.find_first_of("\"\\", at);
      if (close == std::string::npos || line[close] != '"') return false;
      at = close + 1;
      return true;
    };
    if (take("  __parameters__ = [") || take("  __buffers__ = [")) {
      while (at < line.size() && line[at] == '"')
        if (!quoted() || !(take(", ") || at == line.size() - 1)) return false;
      return take("]") && at == line.size();
    }
    if (take("  __annotations__[")) {
      if (!quoted() || !take("] = ")) return false;
    } else {
      if (!take("  ")) return false;
      const size_t start = at;
      while (at < line.size() && (std::isalnum(static_cast<unsigned char>(line[at])) || line[at] == '_')) ++at;
      if (at == start || std::isdigit(static_cast<unsigned char>(line[start])) || !take(" : ")) return false;
    }
    return type_ends(line, at, 0) && at == line.size();
  }

  // Whether a TYPE starts at `at` of `t`; advances `at` past it.
  static bool type_ends(const std::string& t, size_t& at, int depth) {
    static const char* const atoms[] = {"int", "float", "bool", "str", "Tensor", "NoneType", "__torch__.Module"};
    static const char* const generic[] = {"Tuple[", "List[", "Optional[", "Dict[str, "};
    const auto take = [&](const char* text) {
      const size_t n = std::char_traits<char>::length(text);
      if (t.compare(at, n, text) != 0) return false;
      at += n;
      return true;
    };
    if (depth > 8) return false;
    for (const char* g : generic) {
      if (!take(g)) continue;
      do {
        if (!type_ends(t, at, depth + 1)) return false;
      } while (g[0] == 'T' && take(", "));
      return take("]");
    }
    if (take("__torch__.___torch_mangle_")) {
      const size_t start = at;
      while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) ++at;
      return at > start && take(".Module");
    }
    for (const char* a : atoms) {  // the longest first is not needed: no atom is a prefix of another
      if (take(a)) return true;
    }
    return false;
  }

  // Walks the opcodes of LibTorch's unpickler (torch/csrc/jit/serialization/unpickler.cpp).
  void check_pickle(const std::string& p, const std::string& name) const {
    const auto bad = [&](const std::string& why) { fail("pickle '" + name + "': " + why); };
    size_t at = 0;
    const auto fixed = [&](size_t n) {
      if (p.size() - at < n) bad("truncated");
      const size_t from = at;
      at += n;
      return from;
    };
    const auto counted = [&](int width) {  // a length of `width` bytes, then that many bytes
      const uint64_t n = little_endian(p, fixed(width), width);
      if (n > p.size() - at) bad("a length of " + std::to_string(n) + " runs past its end");
      at += n;
    };
    const auto memo = [&](int width) {
      if (little_endian(p, fixed(width), width) > p.size()) bad("a memo index beyond its size");
    };
    const auto line = [&] {
      const size_t end = p.find('\n', at);
      if (end == std::string::npos) bad("truncated");
      at = end + 1;
    };
    while (at < p.size()) {
      const unsigned char op = static_cast<unsigned char>(p[at++]);
      switch (op) {
        case '.':  // STOP
          return;
        case '(': case '0': case '1': case '2': case 'N': case 'Q': case 'R': case 'a': case 'b': case 'd':
        case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't': case ')': case 'u': case 0x81:
        case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91: case 0x92:
        case 0x93: case 0x94:
          break;
        case 'F': case 'I': case 'L': case 'P': case 'S': case 'V':  // not GET, PUT: text memo indices
          line();
          break;
        case 'c': case 'i':  // GLOBAL, INST: module and name lines
          line(), line();
          break;
        case 'K': case 0x80: case 0x82: fixed(1); break;
        case 'M': case 0x83: fixed(2); break;
        case 'J': case 0x84: fixed(4); break;
        case 'G': case 0x95: fixed(8); break;
        case 'h': case 'q': memo(1); break;
        case 'j': case 'r': memo(4); break;
        case 'U': case 'C': case 0x8a: case 0x8c: counted(1); break;
        case 'T': case 'X': case 'B': case 0x8b: counted(4); break;
        case 0x8d: case 0x8e: counted(8); break;
        default:
          bad("unknown opcode " + std::to_string(op));
      }
    }
    bad("no STOP opcode: truncated");
  }
};

}  // namespace

void check_archive_contents(const ReadAt& read, uint64_t size, const std::string& what, const std::string& fix) {
  Checker{read, size, what, fix}.check();
}

}  // namespace lmlab
