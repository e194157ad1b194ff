// Private header (not part of the public API): the pieces every lmlab page shares. A page is
// self-contained and opens offline: inline CSS, plots as SVG images held in the page, no scripts,
// fonts or stylesheets to fetch; every string taken from a run directory goes through escape().
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace lmlab {

// `s` with & < > " ' replaced by entities, safe as HTML text and as a quoted attribute value.
std::string escape(const std::string& s);

// `s` as part of an element id: letters, digits, '_', '-' and '.' kept, any other byte as "~XX" (hex),
// so distinct strings give distinct ids.
std::string id_token(const std::string& s);

// An SVG as <img alt="ALT" src="data:image/svg+xml;base64,...">, or "" when it holds no <svg element.
// A browser draws an SVG image without running its scripts or fetching what it links to, so an SVG
// from a downloaded run directory can neither run code in the page nor change its markup.
std::string svg_image(const std::string& svg, const std::string& alt);

// <figure id="ID"> with an escaped caption and svg_image(svg, caption), or a note when `svg` holds
// no plot.
void write_figure(std::ostream& html, const std::string& id, const std::string& caption, const std::string& svg);

// Writes to `html` what `part` writes, or, when `part` fails on a file (a DataError: unreadable, not
// a regular file, too large), a note with the reason instead, so one bad file costs only its part.
void write_part(std::ostream& html, const std::function<void(std::ostream&)>& part);

// Opens the page: doctype, style, <title> and <h1> (both `title`, escaped), and a line with the
// date and lmlab's version. close_page() ends it.
void open_page(std::ostream& html, const std::string& title);
void close_page(std::ostream& html);

}  // namespace lmlab
