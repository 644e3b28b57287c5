// Connection files: what a controller writes so engines can find it, and how a
// reader refuses files it cannot trust to be what they claim.

#include <sys/stat.h>
#include <unistd.h>

#include <cannery/canning/error.hpp>
#include <cannery/messaging/connection_file.hpp>
#include <cannery/messaging/curve.hpp>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using cannery::errc;
using cannery::test::capture_error;

using cannery::test::TempDir;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

cannery::ConnectionInfo sample_info() {
  cannery::ConnectionInfo info;
  info.endpoints = {{"registration", "tcp://127.0.0.1:5555"},
                    {"task", "tcp://127.0.0.1:5556"},
                    {"notification", "ipc:///tmp/cannery-notify"}};
  info.key = cannery::generate_key();
  info.curve_server_public_key = cannery::generate_curve_keypair().public_key;
  return info;
}

// A valid file's text with one field's JSON value replaced (or removed when
// `value` is empty).
std::string file_with(const std::string& field, const std::string& value) {
  std::map<std::string, std::string> fields = {{"endpoints", R"({"task": "tcp://127.0.0.1:5556"})"},
                                               {"key", R"("0123456789abcdef")"},
                                               {"signature_scheme", R"("hmac-sha256")"},
                                               {"pack", R"("msgpack")"},
                                               {"unpack", R"("msgpack")"}};
  if (value.empty())
    fields.erase(field);
  else
    fields[field] = value;
  std::string text = "{";
  for (const auto& [name, json] : fields) {
    if (text.size() > 1) text += ", ";
    text += "\"" + name + "\": " + json;
  }
  return text + "}";
}

}  // namespace

TEST_CASE("a connection file round-trips every field", "[messaging][connection_file]") {
  TempDir dir;
  const auto info = sample_info();
  const auto path = dir / "ipcontroller-engine.json";
  cannery::write_connection_file(path, info);

  const auto back = cannery::read_connection_file(path);
  CHECK(back.endpoints == info.endpoints);
  CHECK(back.key == info.key);
  CHECK(back.signature_scheme == "hmac-sha256");
  CHECK(back.packer == "msgpack");
  CHECK(back.curve_server_public_key == info.curve_server_public_key);

  SECTION("without CURVE the field stays out of the file and reads back empty") {
    auto plain = info;
    plain.curve_server_public_key.clear();
    cannery::write_connection_file(path, plain);
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("curve_server_key") == std::string::npos);
    CHECK(text.find("\"pack\": \"msgpack\"") != std::string::npos);
    CHECK(text.find("\"unpack\": \"msgpack\"") != std::string::npos);
    CHECK(cannery::read_connection_file(path).curve_server_public_key.empty());
  }
}

TEST_CASE("a connection file is private and replaced atomically", "[messaging][connection_file]") {
  TempDir dir;
  const auto path = dir / "controller.json";
  cannery::write_connection_file(path, sample_info());
  CHECK(cannery::test::file_mode(path) == 0600);

  // Replacing a file someone made world-readable leaves a private one.
  ::chmod(path.c_str(), 0644);
  const auto second = sample_info();
  cannery::write_connection_file(path, second);
  CHECK(cannery::test::file_mode(path) == 0600);
  CHECK(cannery::read_connection_file(path).key == second.key);

  // No temporary files are left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path()))
    ++entries;
  CHECK(entries == 1);
}

TEST_CASE("generate_key makes 64 lowercase hex characters, new each time",
          "[messaging][connection_file]") {
  std::set<std::string> keys;
  for (int i = 0; i < 16; ++i) {
    const auto key = cannery::generate_key();
    REQUIRE(key.size() == 64);
    CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
    keys.insert(key);
  }
  CHECK(keys.size() == 16);
}

TEST_CASE("a file written by IPython-style tools with extra fields is read",
          "[messaging][connection_file]") {
  TempDir dir;
  const auto path = dir / "ipython.json";
  write_text(path, R"({
    "endpoints": {"task": "tcp://127.0.0.1:5556"},
    "key": "a0b1c2d3-e4f5-4789-9abc-def012345678",
    "signature_scheme": "hmac-sha256",
    "pack": "msgpack", "unpack": "msgpack",
    "location": "127.0.0.1", "ssh": "", "interface": "tcp://127.0.0.1"
  })");
  const auto info = cannery::read_connection_file(path);
  CHECK(info.key == "a0b1c2d3-e4f5-4789-9abc-def012345678");
  CHECK(info.endpoints.at("task") == "tcp://127.0.0.1:5556");
}

TEST_CASE("bad connection files give errors naming the file and the field",
          "[messaging][connection_file]") {
  TempDir dir;
  const auto path = dir / "bad.json";

  SECTION("a missing file is an io_error naming it") {
    const auto e = capture_error([&] { cannery::read_connection_file(dir / "absent.json"); });
    CHECK(e.code() == errc::io_error);
    CHECK_THAT(e.message(), Catch::Contains("absent.json"));
  }
  SECTION("a directory is an io_error") {
    const auto e = capture_error([&] { cannery::read_connection_file(dir.path()); });
    CHECK(e.code() == errc::io_error);
  }

  struct Case {
    std::string text;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"{\"endpoints\": ", "JSON"},
      {"[1, 2]", "object"},
      {file_with("key", ""), "\"key\""},
      {file_with("key", "5"), "\"key\""},
      {file_with("endpoints", ""), "\"endpoints\""},
      {file_with("endpoints", "[]"), "\"endpoints\""},
      {file_with("endpoints", R"({"task": 5})"), "task"},
      {file_with("endpoints", R"({"task": "localhost"})"), "task"},
      {file_with("signature_scheme", R"("hmac-md5")"), "signature_scheme"},
      {file_with("signature_scheme", "null"), "signature_scheme"},
      {file_with("pack", R"("json")"), "pack"},
      {file_with("unpack", R"("json")"), "unpack"},
      {file_with("curve_server_key", R"("too short")"), "curve_server_key"},
      {file_with("curve_server_key", "42"), "curve_server_key"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    write_text(path, c.text);
    const auto e = capture_error([&] { cannery::read_connection_file(path); });
    CHECK(e.code() == errc::invalid_argument);
    CHECK_THAT(e.message(), Catch::Contains("bad.json"));
    CHECK_THAT(e.message(), Catch::Contains(c.mentions));
  }
}

TEST_CASE("write_connection_file refuses what it could not read back",
          "[messaging][connection_file]") {
  TempDir dir;
  const auto path = dir / "refused.json";

  auto info = sample_info();
  info.signature_scheme = "hmac-sha1";
  CHECK(capture_error([&] { cannery::write_connection_file(path, info); }).code() ==
        errc::invalid_argument);

  info = sample_info();
  info.curve_server_public_key = "not a key";
  CHECK(capture_error([&] { cannery::write_connection_file(path, info); }).code() ==
        errc::invalid_argument);
  CHECK_FALSE(fs::exists(path));

  const auto e =
      capture_error([&] { cannery::write_connection_file(dir / "no-such-dir" / "x.json", info); });
  CHECK(e.code() == errc::invalid_argument);  // the bad key is found before the directory

  const auto io = capture_error(
      [&] { cannery::write_connection_file(dir / "no-such-dir" / "x.json", sample_info()); });
  CHECK(io.code() == errc::io_error);
  CHECK_THAT(io.message(), Catch::Contains("no-such-dir"));
}
