// docs/wire-format.md, "Compressed frames": its Python puts back what every
// codec sent, and the document's decoder then reads the objects.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compression_support.hpp"
#include "source_examples.hpp"
#include "test_support.hpp"

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first ```python block after `heading` in docs/wire-format.md.
std::string python_after(const std::string& heading) {
  const std::vector<std::string> blocks =
      cannery::test::markdown_blocks("docs/wire-format.md", "python", heading);
  REQUIRE(!blocks.empty());
  return blocks.front();
}

}  // namespace

TEST_CASE("the Python of docs/wire-format.md puts back frames of every codec",
          "[compression][python]") {
  namespace fs = std::filesystem;
  cannery::test::TempDir dir;
  std::ofstream(dir / "codings.py") << python_after("## Compressed frames");
  std::ofstream(dir / "decoder.py") << python_after("## A complete decoder in Python");

  cannery::SessionOptions options;
  options.key = "compression-test-key";
  cannery::Session sender(options);
  const std::vector<double> field = cannery::test::smooth_field(100000);
  const std::vector<std::int32_t> counts(50000, 9);
  // The field's bytes as canned, for Python to compare with what it decoded.
  std::ofstream(dir / "field.raw", std::ios::binary)
      .write(reinterpret_cast<const char*>(field.data()),
             static_cast<std::streamsize>(field.size() * sizeof(double)));
  int message_number = 0;
  for (cannery::Codec codec : cannery::wire_codecs()) {
    cannery::Message m = sender.message("apply_request");
    m.buffers = cannery::test::message_of(field, std::string("between"), counts);
    auto link = cannery::test::compressor(codec);
    m.compressor = link;
    const std::vector<cannery::Buffer> frames = sender.serialize(m);
    REQUIRE(link->stats().frames_compressed == 2);
    const fs::path message_dir = dir / ("m" + std::to_string(message_number++));
    fs::create_directories(message_dir);
    cannery::test::write_frame_files(message_dir, frames);
  }
  std::ofstream(dir / "driver.py") << R"(
import glob, os, sys
here = os.path.dirname(__file__)
sys.path.insert(0, here)
import msgpack
from codings import decompress_frames
from decoder import decode_message
for message in sorted(glob.glob(os.path.join(here, "m*"))):
    frames = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(message, "*.bin")))]
    # delimiter, signature, header, parent_header, metadata, content, buffers...
    metadata = msgpack.unpackb(frames[4], raw=False)
    codecs = [c["codec"] for c in metadata["cannery.codings"]]
    field, text, counts = decode_message(decompress_frames(frames[6:], metadata))
    same = field.tobytes() == open(os.path.join(here, "field.raw"), "rb").read()
    print(",".join(codecs), f"{field.dtype.str}{list(field.shape)} same={same}", text,
          f"{counts.dtype.str}{list(counts.shape)} {int(counts.sum())}")
)";
  const fs::path out = dir / "out.txt";
  const int rc = std::system(
      ("/usr/bin/python3 " + (dir / "driver.py").string() + " > " + out.string() + " 2>&1")
          .c_str());
  const std::string printed = read_text(out);
  INFO(printed);
  REQUIRE(rc == 0);
  std::string expected;
  for (const char* codec : {"lz4", "zstd", "blosc_lz4", "blosc_zstd"}) {
    expected +=
        std::string(codec) + "," + codec + " <f8[100000] same=True between <i4[50000] 450000\n";
  }
  CHECK(printed == expected);
}
