// docs/wire-format.md is a contract: every hex example in it must be what the
// code writes, and its Python decoder must read what the code writes.

#include <Eigen/Core>
#include <cannery/canning.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace wire_doc {
struct Point {
  double x = 0;
  double y = 0;
  std::string label;
};
CANNERY_FIELDS(Point, x, y, label)
}  // namespace wire_doc

namespace {

std::string read_doc() {
  std::ifstream in(std::filesystem::path(CANNERY_SOURCE_DIR) / "docs" / "wire-format.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text of the first ```<lang> fenced block at or after `from`.
std::string fenced_block(const std::string& doc, const std::string& lang, std::size_t from = 0) {
  const std::string open = "```" + lang + "\n";
  std::size_t start = doc.find(open, from);
  if (start == std::string::npos) return {};
  start += open.size();
  std::size_t end = doc.find("```", start);
  return end == std::string::npos ? std::string() : doc.substr(start, end - start);
}

// name -> header bytes of each `<!-- example: name -->` and the hex block after it.
std::map<std::string, std::vector<unsigned char>> doc_examples(const std::string& doc) {
  std::map<std::string, std::vector<unsigned char>> out;
  const std::string marker = "<!-- example: ";
  for (std::size_t at = doc.find(marker); at != std::string::npos; at = doc.find(marker, at + 1)) {
    std::size_t name_start = at + marker.size();
    std::string name = doc.substr(name_start, doc.find(' ', name_start) - name_start);
    std::istringstream hex(fenced_block(doc, "hex", at));
    std::vector<unsigned char> bytes;
    unsigned value = 0;
    while (hex >> std::hex >> value)
      bytes.push_back(static_cast<unsigned char>(value));
    out[name] = bytes;
  }
  return out;
}

std::vector<unsigned char> bytes_of(const cannery::Buffer& b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  return {p, p + b.size()};
}

Eigen::MatrixXd two_by_three() {
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  return m;
}

// The code side of every example: the frames it stands for.
const std::map<std::string, std::function<std::vector<cannery::Buffer>()>>& code_examples() {
  using cannery::serialize_object;
  static const std::map<std::string, std::function<std::vector<cannery::Buffer>()>> examples{
      {"int", [] { return serialize_object(std::int64_t{42}); }},
      {"negative_int", [] { return serialize_object(-7); }},
      {"double", [] { return serialize_object(2.5); }},
      {"float", [] { return serialize_object(1.5f); }},
      {"string", [] { return serialize_object(std::string("hi")); }},
      {"non_utf8_string", [] { return serialize_object(std::string("\xffok")); }},
      {"empty_optional", [] { return serialize_object(std::optional<int>{}); }},
      {"complex", [] { return serialize_object(std::complex<double>(1, -2)); }},
      {"list",
       [] {
         return serialize_object(std::vector<std::string>{"a", "b"});
       }},
      {"small_bytes",
       [] {
         return serialize_object(std::vector<std::byte>{std::byte{1}, std::byte{2}});
       }},
      {"large_bytes", [] { return serialize_object(std::vector<std::byte>(2000, std::byte{7})); }},
      {"int32_vector",
       [] {
         return serialize_object(std::vector<std::int32_t>{1, 2, 3});
       }},
      {"eigen_matrix", [] { return serialize_object(two_by_three()); }},
      {"dict_of_arrays",
       [] {
         return serialize_object(std::map<std::string, std::vector<double>>{
             {"a", std::vector<double>(200, 1.0)}, {"b", {0.5}}});
       }},
      {"fields_struct",
       [] {
         return serialize_object(wire_doc::Point{1, 2, "p"});
       }},
      {"apply_header", [] { return cannery::pack_apply_message("f", 1, cannery::kw("k", true)); }},
  };
  return examples;
}

}  // namespace

TEST_CASE("every example in docs/wire-format.md is what the code writes", "[canning][wire]") {
  auto doc = doc_examples(read_doc());
  const auto& code = code_examples();
  std::vector<std::string> doc_names, code_names;
  for (const auto& [name, bytes] : doc)
    doc_names.push_back(name);
  for (const auto& [name, make] : code)
    code_names.push_back(name);
  // No example in the doc goes unchecked, and none here is missing there.
  CHECK(doc_names == code_names);
  for (const auto& [name, make] : code) {
    INFO("example " << name);
    auto frames = make();
    REQUIRE(doc.count(name) == 1);
    CHECK(bytes_of(frames.front()) == doc.at(name));
  }
  CHECK(code.at("large_bytes")().size() == 2);
  CHECK(code.at("large_bytes")()[1].size() == 2000);
  CHECK(code.at("dict_of_arrays")()[1].size() == 1600);
  CHECK(code.at("apply_header")().size() == 3);
}

TEST_CASE("the Python decoder in docs/wire-format.md reads what the code writes",
          "[canning][wire][python]") {
  const std::string doc = read_doc();
  const std::string python =
      fenced_block(doc, "python", doc.find("## A complete decoder in Python"));
  REQUIRE(!python.empty());

  Eigen::MatrixXd matrix(3, 4);
  matrix << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;
  Eigen::MatrixXd big = Eigen::MatrixXd::Zero(300, 200);
  big(1, 2) = 7;
  big(298, 198) = 9;
  std::vector<double> ramp(100000);
  for (std::size_t i = 0; i < ramp.size(); ++i)
    ramp[i] = static_cast<double>(i);
  Eigen::SparseMatrix<double> sparse(3, 3);
  sparse.insert(0, 1) = 4;
  sparse.insert(2, 2) = 5;
  sparse.makeCompressed();

  std::vector<cannery::Buffer> message;
  cannery::can(std::int64_t{-42}).append_to(message);
  cannery::can(std::string("hello")).append_to(message);
  cannery::can(2.5).append_to(message);
  cannery::can(ramp).append_to(message);
  cannery::can(matrix).append_to(message);
  cannery::can(big.block(1, 2, 298, 197)).append_to(message);  // strided: gathered
  cannery::can(std::map<std::string, std::vector<float>>{{"w", std::vector<float>(500, 0.5f)}})
      .append_to(message);
  cannery::can(std::complex<double>(1, 2)).append_to(message);
  cannery::can(std::make_tuple(1, std::string("two"), 3.0)).append_to(message);
  cannery::can(sparse).append_to(message);
  cannery::can(wire_doc::Point{1.5, -2, "p"}).append_to(message);
  cannery::can(std::vector<std::byte>(3000, std::byte{9})).append_to(message);
  cannery::can(std::string("\xff\xfeok")).append_to(message);  // not UTF-8: bytes

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cannery_wire_doc_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  cannery::test::write_frame_files(dir, message);
  std::ofstream(dir / "decoder.py") << python;
  std::ofstream(dir / "driver.py") << R"(
import glob, os, sys
sys.path.insert(0, os.path.dirname(__file__))
import numpy as np
from decoder import decode_message
frames = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*.bin")))]
def show(v):
    if isinstance(v, np.ndarray):
        return f"{v.dtype.str}{list(v.shape)} sum={float(v.sum())} first={v.ravel()[0]} last={v.ravel()[-1]}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(show(x) for x in v) + "]"
    if isinstance(v, bytes):
        return f"bytes[{len(v)}] {v[0]}"
    return repr(v)
for value in decode_message(frames):
    print(show(value))
)";
  const fs::path out = dir / "out.txt";
  const std::string command =
      "/usr/bin/python3 " + (dir / "driver.py").string() + " > " + out.string() + " 2>&1";
  int rc = std::system(command.c_str());
  std::ifstream result(out);
  std::stringstream text;
  text << result.rdbuf();
  fs::remove_all(dir);
  INFO(text.str());
  REQUIRE(rc == 0);
  const std::string expected =
      "-42\n"
      "'hello'\n"
      "2.5\n"
      "<f8[100000] sum=4999950000.0 first=0.0 last=99999.0\n"
      "<f8[3, 4] sum=78.0 first=1.0 last=12.0\n"
      "<f8[298, 197] sum=16.0 first=7.0 last=9.0\n"
      "{w: <f4[500] sum=250.0 first=0.5 last=0.5}\n"
      "(1+2j)\n"
      "[1, 'two', 3.0]\n"
      "{shape: (3, 3), format: 'csc', data: <f8[2] sum=9.0 first=4.0 last=5.0, indices: <i4[2] "
      "sum=2.0 first=0 last=2, indptr: <i4[4] sum=3.0 first=0 last=2}\n"
      "{tag: 'Point', value: {x: 1.5, y: -2.0, label: 'p'}}\n"
      "bytes[3000] 9\n"
      "bytes[4] 255\n";
  CHECK(text.str() == expected);
}
