#pragma once
// Examples in header comments and docs are code a test runs. These helpers
// check that the test runs the very text a reader sees, so that the two
// cannot drift apart: the example's lines must stand one after another in the
// test's source (compared without indentation, runs of blanks as one).

#include <catch2/catch.hpp>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cannery::test {

// A file of the source tree (CANNERY_SOURCE_DIR), whole.
inline std::string source_file(const std::string& relative) {
  std::ifstream in(std::filesystem::path(CANNERY_SOURCE_DIR) / relative);
  INFO(relative);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The indented blocks of the comment that opens `header` (after `#pragma
// once`): each run of lines "//   ...", without that prefix, in order.
inline std::vector<std::string> header_comment_blocks(const std::string& header) {
  std::istringstream lines(source_file(header));
  std::vector<std::string> blocks;
  std::string line;
  bool in_block = false;
  while (std::getline(lines, line)) {
    if (line == "#pragma once") continue;
    if (!line.starts_with("//")) break;
    if (!line.starts_with("//   ")) {
      in_block = false;
      continue;
    }
    if (!in_block) blocks.emplace_back();
    in_block = true;
    blocks.back() += line.substr(5) + "\n";
  }
  return blocks;
}

// The ```<lang> blocks of a Markdown file of the source tree that come
// after `from` (a heading, say; empty: from the start), in order.
inline std::vector<std::string> markdown_blocks(const std::string& doc, const std::string& lang,
                                                const std::string& from = {}) {
  const std::string text = source_file(doc);
  const std::string open = "```" + lang + "\n";
  const std::size_t start = from.empty() ? 0 : text.find(from);
  std::vector<std::string> blocks;
  if (start == std::string::npos) return blocks;
  for (std::size_t at = text.find(open, start); at != std::string::npos; at = text.find(open, at)) {
    at += open.size();
    const std::size_t end = text.find("```", at);
    if (end == std::string::npos) break;
    blocks.push_back(text.substr(at, end - at));
    at = end + 3;
  }
  return blocks;
}

// The ```cpp blocks of a Markdown file, in order.
inline std::vector<std::string> markdown_cpp_blocks(const std::string& doc) {
  return markdown_blocks(doc, "cpp");
}

// The non-empty lines of `text`, trimmed, each run of blanks made one space.
inline std::vector<std::string> normalized_lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::string normal;
    for (char c : line) {
      const bool blank = c == ' ' || c == '\t';
      if (blank && (normal.empty() || normal.back() == ' ')) continue;
      normal += blank ? ' ' : c;
    }
    while (!normal.empty() && normal.back() == ' ')
      normal.pop_back();
    if (!normal.empty()) out.push_back(std::move(normal));
  }
  return out;
}

// Whether the lines of `example` stand one after another in `source`.
inline bool contains_lines(std::string_view source, std::string_view example) {
  const std::vector<std::string> haystack = normalized_lines(source);
  const std::vector<std::string> needle = normalized_lines(example);
  if (needle.empty() || needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    std::size_t n = 0;
    while (n < needle.size() && haystack[i + n] == needle[n])
      ++n;
    if (n == needle.size()) return true;
  }
  return false;
}

}  // namespace cannery::test
