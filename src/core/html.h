// Private header (not part of the public API): the pieces every lmlab page shares. A page is
// self-contained and opens offline: inline CSS, plots inlined as SVG, no scripts, fonts or
// stylesheets to fetch; every string taken from a run directory goes through escape().
#pragma once

#include <ostream>
#include <string>

namespace lmlab {

// `s` with & < > " ' replaced by entities, safe as HTML text and as a quoted attribute value.
std::string escape(const std::string& s);

// `s` as part of an element id: letters, digits, '_', '-' and '.' kept, any other byte as "~XX" (hex),
// so distinct strings give distinct ids.
std::string id_token(const std::string& s);

// The markup of an SVG file ready to sit inside HTML, or "" when it holds no <svg element: the
// XML prolog is dropped and every id (gnuplot repeats the same ones in every file) and every
// reference to one gets `id_prefix`, so a page can hold many plots.
std::string inline_svg(const std::string& svg, const std::string& id_prefix);

// <figure id="ID"> with an escaped caption and inline_svg(svg, svg_prefix), or a note when `svg`
// holds no plot.
void write_figure(std::ostream& html, const std::string& id, const std::string& caption, const std::string& svg,
                  const std::string& svg_prefix);

// Opens the page: doctype, style, <title> and <h1> (both `title`, escaped), and a line with the
// date and lmlab's version. close_page() ends it.
void open_page(std::ostream& html, const std::string& title);
void close_page(std::ostream& html);

}  // namespace lmlab
