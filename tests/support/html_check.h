// Test support (not installed): checking a page as a browser without scripts would read it.
#pragma once

#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace lmlab::test_support {

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

namespace detail {

inline bool is_void_element(const std::string& name) {
  static const std::set<std::string> kVoid = {"area", "base", "br",    "col",  "embed", "hr",  "img",
                                              "input", "link", "meta", "source", "track", "wbr"};
  return kVoid.count(name) > 0;
}

// The value of attribute `name` in the text of one tag, or "" (a missing attribute).
inline std::vector<std::string> attribute_values(const std::string& tag, const std::string& name) {
  std::vector<std::string> values;
  for (size_t at = tag.find(name + "="); at != std::string::npos; at = tag.find(name + "=", at + 1)) {
    if (at > 0 && !std::isspace(static_cast<unsigned char>(tag[at - 1])) && tag[at - 1] != ':') continue;
    const size_t open = at + name.size() + 1;
    const char quote = tag[open];
    const size_t close = tag.find(quote, open + 1);
    if ((quote == '"' || quote == '\'') && close != std::string::npos)
      values.push_back(tag.substr(open + 1, close - open - 1));
  }
  return values;
}

// Whether `text` (outside tags) uses '&' only to start an entity.
inline bool entities_ok(const std::string& text) {
  for (size_t at = text.find('&'); at != std::string::npos; at = text.find('&', at + 1)) {
    const size_t semi = text.find(';', at);
    if (semi == std::string::npos || semi - at > 10) return false;
    const std::string name = text.substr(at + 1, semi - at - 1);
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i)
      if (!std::isalnum(static_cast<unsigned char>(name[i])) && !(i == 0 && name[i] == '#')) return false;
  }
  return true;
}

// Whether `src` is an SVG held in the page: data:image/svg+xml;base64, then base64 digits.
inline bool is_svg_data(const std::string& src) {
  const std::string head = "data:image/svg+xml;base64,";
  if (src.rfind(head, 0) != 0) return false;
  for (size_t i = head.size(); i < src.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(src[i])) && src[i] != '+' && src[i] != '/' && src[i] != '=') return false;
  return true;
}

// Decodes RFC 4648 base64 (padding ignored).
inline std::string base64_decode(const std::string& text) {
  std::string out;
  uint32_t word = 0;
  int bits = 0;
  for (char c : text) {
    const int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (v < 0) continue;
    word = word << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(word >> bits & 0xFF);
    }
  }
  return out;
}

}  // namespace detail

// The SVG files a page holds as images (<img src="data:image/svg+xml;base64,...">), decoded, in order.
inline std::vector<std::string> svg_images(const std::string& html) {
  std::vector<std::string> svgs;
  for (size_t at = html.find("<img "); at != std::string::npos; at = html.find("<img ", at + 1))
    for (const std::string& src : detail::attribute_values(html.substr(at, html.find('>', at) - at), "src"))
      if (detail::is_svg_data(src)) svgs.push_back(detail::base64_decode(src.substr(src.find(',') + 1)));
  return svgs;
}

// The problems of a page, empty when it is sound: every element closed in order (void elements
// and self-closing tags aside), no stray '<' or '&' in text, unique ids, every in-page reference
// (href="#x", xlink:href="#x", url(#x)) naming an id of the page, and nothing to fetch: no script,
// stylesheet link, frame, src attribute other than an SVG held in the page, or url() to another
// resource; links leave the page only to arxiv.org.
inline std::vector<std::string> html_problems(const std::string& html) {
  std::vector<std::string> problems, open;
  std::set<std::string> ids, refs;
  size_t pos = 0;
  while (pos < html.size()) {
    const size_t lt = html.find('<', pos);
    const std::string text = html.substr(pos, lt == std::string::npos ? std::string::npos : lt - pos);
    if (!detail::entities_ok(text)) problems.push_back("stray '&' in text: " + text.substr(0, 80));
    if (lt == std::string::npos) break;
    if (html.compare(lt, 4, "<!--") == 0) {
      pos = html.find("-->", lt);
      pos = pos == std::string::npos ? html.size() : pos + 3;
      continue;
    }
    const size_t gt = html.find('>', lt);  // attribute values are escaped, so the first '>' ends the tag
    if (gt == std::string::npos) {
      problems.push_back("unterminated tag at byte " + std::to_string(lt));
      break;
    }
    const std::string tag = html.substr(lt + 1, gt - lt - 1);
    pos = gt + 1;
    if (tag.empty() || tag[0] == '!' || tag[0] == '?') continue;  // doctype, XML prolog
    const bool closing = tag[0] == '/';
    size_t end = closing ? 1 : 0;
    while (end < tag.size() &&
           (std::isalnum(static_cast<unsigned char>(tag[end])) || tag[end] == ':' || tag[end] == '-'))
      ++end;
    const std::string name = tag.substr(closing ? 1 : 0, end - (closing ? 1 : 0));
    if (name.empty()) {
      problems.push_back("stray '<' before: " + tag.substr(0, 40));
      continue;
    }
    if (closing) {
      if (open.empty() || open.back() != name)
        problems.push_back("</" + name + "> closes <" + (open.empty() ? "" : open.back()) + ">");
      else
        open.pop_back();
      continue;
    }
    if (name == "script" || name == "iframe" || name == "link" || name == "object" || name == "embed")
      problems.push_back("<" + name + "> fetches or runs something");
    for (const std::string& src : detail::attribute_values(tag, "src"))
      if (!detail::is_svg_data(src)) problems.push_back("src= in <" + name + "> that is not an SVG held in the page");
    for (const std::string& id : detail::attribute_values(tag, "id"))
      if (!ids.insert(id).second) problems.push_back("duplicate id " + id);
    for (const std::string& href : detail::attribute_values(tag, "href")) {
      if (href.rfind('#', 0) == 0) refs.insert(href.substr(1));
      else if (href.rfind("https://arxiv.org/abs/", 0) != 0) problems.push_back("link out of the page: " + href);
    }
    for (size_t at = tag.find("url("); at != std::string::npos; at = tag.find("url(", at + 1)) {
      if (tag.compare(at + 4, 1, "#") != 0) problems.push_back("url() to another resource in <" + name + ">");
      else refs.insert(tag.substr(at + 5, tag.find(')', at) - at - 5));
    }
    if (name == "style") {  // raw text up to </style>; it may fetch nothing either
      const size_t close = html.find("</style>", pos);
      const std::string css = html.substr(pos, close - pos);
      if (css.find("url(") != std::string::npos || css.find("@import") != std::string::npos)
        problems.push_back("the style sheet fetches something");
      pos = close;
      open.push_back(name);
      continue;
    }
    if (tag.back() != '/' && !detail::is_void_element(name)) open.push_back(name);
  }
  for (const std::string& name : open) problems.push_back("<" + name + "> is never closed");
  for (const std::string& ref : refs)
    if (!ids.count(ref)) problems.push_back("reference to a missing id #" + ref);
  return problems;
}

}  // namespace lmlab::test_support
