// Hostile input: a deterministic fuzz of deserialize_object over mutated valid
// messages, and hand-built headers whose lengths and shapes claim far more
// than arrived. The only acceptable outcomes are a value or a cannery::error:
// any other exception, a crash, or a sanitizer report fails the test.

#include <sys/resource.h>

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <algorithm>
#include <any>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <typeinfo>
#include <vector>

#include <cannery/canning.hpp>

#include "hand_packed.hpp"
#include "test_support.hpp"

namespace hostile {

struct Particle {
  std::vector<double> pos;
  double mass = 0;
  int id = 0;
  std::string name;
};
CANNERY_FIELDS(Particle, pos, mass, id, name)

// Never registered: untyped receivers must answer unknown_tag.
struct Unregistered {
  int x = 0;
};
CANNERY_FIELDS(Unregistered, x)

}  // namespace hostile

namespace {

using cannery::Buffer;
using cannery::errc;
using cannery::Object;
using Frames = std::vector<Buffer>;

constexpr std::size_t errc_count = static_cast<std::size_t>(errc::invalid_argument) + 1;

// One canned object of the corpus: its frames, kept apart so that messages
// can be assembled from several objects and header frames swapped.
struct Canned {
  std::string what;
  Frames frames;
};

// Out-of-band lvalues are borrowed, not copied: large values are given as
// rvalues so that the frames own their bytes after the locals are gone.
template <class T>
Canned can(std::string what, T&& value) {
  return {std::move(what), cannery::serialize_object(std::forward<T>(value))};
}

std::vector<Canned> make_corpus() {
  std::vector<Canned> corpus;
  corpus.push_back(can("int", std::int64_t{42}));
  corpus.push_back(can("negative int", -7));
  corpus.push_back(can("uint64 max", std::numeric_limits<std::uint64_t>::max()));
  corpus.push_back(can("string", std::string("hello, hostile world")));
  corpus.push_back(can("double", 3.25));
  corpus.push_back(can("complex", std::complex<double>(1.5, -2.0)));
  corpus.push_back(can("bool", true));
  corpus.push_back(can("null", nullptr));

  Object::Dict inner;
  inner["c"] = Object(nullptr);
  inner["d"] = Object(true);
  inner["e"] = Object(Object::List{Object(1), Object("x"), Object(2.5)});
  Object::Dict outer;
  outer["a"] = Object(Object::List{Object(std::int64_t{-3}), Object(Object::Dict(inner))});
  outer["b"] = Object(std::move(inner));
  outer["arr"] = Object(cannery::NDArray::from_vector(std::vector<std::int16_t>{1, 2, 3, 4}));
  corpus.push_back(can("nested dict Object", Object(std::move(outer))));

  std::map<std::string, std::vector<int>> map{{"one", {1}}, {"three", {1, 2, 3}}};
  corpus.push_back(can("map of int vectors", map));
  corpus.push_back(can("list of strings", std::vector<std::string>{"a", "bb", "", "dddd"}));
  corpus.push_back(can("tuple", std::tuple<int, std::string, double>{5, "five", 5.5}));
  corpus.push_back(can("optional", std::optional<std::int32_t>{17}));

  corpus.push_back(can("small double array", std::vector<double>{1.0, 2.0, 3.0, 4.5}));
  std::vector<double> large(200);
  for (std::size_t i = 0; i < large.size(); ++i)
    large[i] = static_cast<double>(i) * 0.5;
  corpus.push_back(can("large double array (out of band)", std::move(large)));
  std::vector<std::int32_t> ints(300);
  for (std::size_t i = 0; i < ints.size(); ++i)
    ints[i] = static_cast<std::int32_t>(i) - 150;
  corpus.push_back(can("large int32 array (out of band)", std::move(ints)));
  corpus.push_back(can("bool vector", std::vector<bool>{true, false, true}));
  corpus.push_back(can("std::array", std::array<float, 4>{1.f, 2.f, 3.f, 4.f}));

  Eigen::MatrixXd small_matrix(3, 4);
  for (Eigen::Index i = 0; i < small_matrix.size(); ++i)
    small_matrix(i) = static_cast<double>(i);
  corpus.push_back(can("small Eigen matrix", small_matrix));
  Eigen::MatrixXf big_matrix = Eigen::MatrixXf::Constant(20, 20, 0.25f);
  corpus.push_back(can("large Eigen matrix (out of band)", std::move(big_matrix)));
  Eigen::MatrixXd wide = Eigen::MatrixXd::Constant(6, 6, 1.0);
  corpus.push_back(can("strided Eigen block", wide.block(1, 1, 3, 2)));
  Eigen::Matrix<double, 2, 2, Eigen::RowMajor> row_major;
  row_major << 1, 2, 3, 4;
  corpus.push_back(can("row-major fixed matrix", row_major));

  Eigen::SparseMatrix<double> sparse(5, 6);
  sparse.insert(0, 0) = 1.0;
  sparse.insert(2, 1) = 2.0;
  sparse.insert(4, 5) = 3.0;
  sparse.makeCompressed();
  corpus.push_back(can("sparse matrix", sparse));
  Eigen::SparseMatrix<double> big_sparse(200, 3);
  for (int i = 0; i < 200; ++i)
    big_sparse.insert(i, i % 3) = i;
  big_sparse.makeCompressed();
  corpus.push_back(can("large sparse matrix (out of band)", std::move(big_sparse)));

  corpus.push_back(can("small bytes", std::vector<std::byte>(16, std::byte{0xab})));
  std::vector<std::byte> blob(2000);
  for (std::size_t i = 0; i < blob.size(); ++i)
    blob[i] = static_cast<std::byte>(i * 7);
  corpus.push_back(can("large bytes (out of band)", Buffer::copy_of(blob.data(), blob.size())));

  corpus.push_back(
      can("CANNERY_FIELDS struct", hostile::Particle{{1.0, 2.0, 3.0}, 9.5, 12, "electron"}));
  Object::List mixed;
  mixed.emplace_back(cannery::NDArray::from_vector(std::vector<double>(150, 1.5)));
  mixed.emplace_back(Buffer::copy_of("bytes in a list"));
  mixed.emplace_back(std::complex<double>(0.0, 1.0));
  mixed.emplace_back(Object::make_extension(hostile::Particle{{0.5}, 1.0, 1, "p"}));
  mixed.emplace_back(std::numeric_limits<std::uint64_t>::max());
  corpus.push_back(can("Object list with an array out of band", Object(std::move(mixed))));
  corpus.push_back(can("unregistered struct", hostile::Unregistered{4}));  // stays last
  return corpus;
}

// A valid message: several objects' frames concatenated, and where each
// object's header frame sits.
struct Message {
  Frames frames;
  std::vector<std::size_t> headers;
  std::size_t lead = 0;  // corpus index of the first object
};

// Reads every byte a received value can reach, so that a view past its data
// is caught by the sanitizer.
std::uint64_t touch(const Buffer& b) {
  std::uint64_t sum = 0;
  for (std::byte x : b.bytes())
    sum += static_cast<std::uint64_t>(x);
  return sum;
}

std::uint64_t touch(const Object& o) {
  switch (o.kind()) {
    case Object::Kind::null:
      return 0;
    case Object::Kind::boolean:
      return o.to_bool() ? 1 : 0;
    case Object::Kind::integer:
      return static_cast<std::uint64_t>(o.to_double() != 0.0);
    case Object::Kind::floating:
      return static_cast<std::uint64_t>(o.to_double() != 0.0);
    case Object::Kind::complex:
      return 1;
    case Object::Kind::string:
      return o.to_string().size();
    case Object::Kind::bytes:
      return touch(o.to_bytes());
    case Object::Kind::list: {
      std::uint64_t sum = 0;
      for (const Object& item : o.to_list())
        sum += touch(item);
      return sum;
    }
    case Object::Kind::dict: {
      std::uint64_t sum = 0;
      for (const auto& [key, item] : o.to_dict())
        sum += key.size() + touch(item);
      return sum;
    }
    case Object::Kind::ndarray: {
      const cannery::NDArray& a = o.to_ndarray();
      return touch(a.contiguous().data());
    }
    case Object::Kind::extension: {
      const auto& ext = o.to_extension();
      if (const auto* s = std::any_cast<Eigen::SparseMatrix<double>>(&ext.value)) {
        return static_cast<std::uint64_t>(s->nonZeros()) + (s->sum() != 0.0 ? 1 : 0);
      }
      if (const auto* p = std::any_cast<hostile::Particle>(&ext.value)) {
        return p->pos.size() + p->name.size();
      }
      return 1;
    }
  }
  return 0;
}

// Typed receivers: each uncans the first object of the frames as one type
// and reads all of it.
using Typed = std::function<std::uint64_t(std::span<const Buffer>)>;

template <class T, class Touch>
Typed typed(Touch&& read) {
  return [read](std::span<const Buffer> frames) -> std::uint64_t {
    auto [value, rest] = cannery::deserialize_object<T>(frames);
    return read(value) + rest.size();
  };
}

std::vector<Typed> typed_receivers() {
  std::vector<Typed> receivers;
  receivers.push_back(
      typed<std::int64_t>([](std::int64_t v) { return static_cast<std::uint64_t>(v); }));
  receivers.push_back(typed<std::uint8_t>([](std::uint8_t v) { return std::uint64_t{v}; }));
  receivers.push_back(typed<std::string>([](const std::string& s) { return s.size(); }));
  receivers.push_back(typed<double>([](double d) { return static_cast<std::uint64_t>(d != 0.0); }));
  receivers.push_back(typed<std::complex<double>>(
      [](std::complex<double> c) { return c.real() != 0.0 ? 1u : 0u; }));
  receivers.push_back(typed<std::vector<double>>([](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v)
      sum += x;
    return static_cast<std::uint64_t>(sum != 0.0) + v.size();
  }));
  receivers.push_back(typed<std::vector<std::int32_t>>([](const std::vector<std::int32_t>& v) {
    std::uint64_t sum = 0;
    for (auto x : v)
      sum += static_cast<std::uint64_t>(x);
    return sum;
  }));
  receivers.push_back(typed<std::span<const double>>([](std::span<const double> v) {
    double sum = 0;
    for (double x : v)
      sum += x;
    return static_cast<std::uint64_t>(sum != 0.0);
  }));
  receivers.push_back(
      typed<std::vector<bool>>([](const std::vector<bool>& v) { return v.size(); }));
  receivers.push_back(typed<std::array<float, 4>>(
      [](const std::array<float, 4>& a) { return a[3] != 0.f ? 1u : 0u; }));
  receivers.push_back(typed<Eigen::MatrixXd>([](const Eigen::MatrixXd& m) {
    return static_cast<std::uint64_t>(m.size()) + (m.sum() != 0.0 ? 1 : 0);
  }));
  receivers.push_back(typed<Eigen::MatrixXf>([](const Eigen::MatrixXf& m) {
    return static_cast<std::uint64_t>(m.size()) + (m.sum() != 0.0f ? 1 : 0);
  }));
  receivers.push_back(
      typed<Eigen::Matrix2d>([](const Eigen::Matrix2d& m) { return m.sum() != 0.0 ? 1u : 0u; }));
  receivers.push_back(
      typed<Eigen::Map<const Eigen::MatrixXd>>([](const Eigen::Map<const Eigen::MatrixXd>& m) {
        return static_cast<std::uint64_t>(m.size()) + (m.sum() != 0.0 ? 1 : 0);
      }));
  receivers.push_back(
      typed<Eigen::Map<const Eigen::MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>>(
          [](const auto& m) {
            return static_cast<std::uint64_t>(m.size()) + (m.sum() != 0.0 ? 1 : 0);
          }));
  receivers.push_back(typed<Eigen::SparseMatrix<double>>([](const Eigen::SparseMatrix<double>& s) {
    return static_cast<std::uint64_t>(s.nonZeros()) + (s.sum() != 0.0 ? 1 : 0);
  }));
  receivers.push_back(typed<Eigen::SparseMatrix<double, Eigen::RowMajor>>(
      [](const Eigen::SparseMatrix<double, Eigen::RowMajor>& s) {
        return static_cast<std::uint64_t>(s.nonZeros()) + (s.sum() != 0.0 ? 1 : 0);
      }));
  receivers.push_back(typed<Eigen::Map<const Eigen::SparseMatrix<double>>>(
      [](const Eigen::Map<const Eigen::SparseMatrix<double>>& s) {
        return static_cast<std::uint64_t>(s.nonZeros()) + (s.sum() != 0.0 ? 1 : 0);
      }));
  receivers.push_back(typed<hostile::Unregistered>(
      [](const hostile::Unregistered& u) { return static_cast<std::uint64_t>(u.x); }));
  receivers.push_back(typed<hostile::Particle>(
      [](const hostile::Particle& p) { return p.pos.size() + p.name.size(); }));
  receivers.push_back(typed<std::map<std::string, std::vector<int>>>([](const auto& m) {
    std::uint64_t sum = 0;
    for (const auto& [k, v] : m)
      sum += k.size() + v.size();
    return sum;
  }));
  receivers.push_back(typed<std::map<std::string, Object>>([](const auto& m) {
    std::uint64_t sum = 0;
    for (const auto& [k, v] : m)
      sum += k.size() + touch(v);
    return sum;
  }));
  receivers.push_back(typed<std::vector<std::string>>([](const auto& v) { return v.size(); }));
  receivers.push_back(typed<std::tuple<int, std::string, double>>(
      [](const auto& t) { return std::get<1>(t).size(); }));
  receivers.push_back(
      typed<std::optional<std::int32_t>>([](const auto& o) { return o ? 1u : 0u; }));
  receivers.push_back(
      typed<std::vector<std::byte>>([](const std::vector<std::byte>& b) { return b.size(); }));
  receivers.push_back(typed<Buffer>([](const Buffer& b) { return touch(b); }));
  receivers.push_back(typed<cannery::NDArray>(
      [](const cannery::NDArray& a) { return touch(a.contiguous().data()); }));
  receivers.push_back(typed<Object>([](const Object& o) { return touch(o); }));
  return receivers;
}

class Mutator {
 public:
  Mutator(std::uint64_t seed, const std::vector<Message>& messages)
      : rng_(seed), messages_(messages) {}

  std::size_t below(std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  Frames mutate(const Message& message) {
    Frames frames = message.frames;
    const std::size_t count = 1 + below(3);
    for (std::size_t i = 0; i < count; ++i)
      mutate_once(message, frames);
    return frames;
  }

 private:
  // A frame to corrupt: usually a header frame, where the structure lives.
  std::size_t pick_frame(const Message& message, const Frames& frames) {
    if (below(4) != 0 && !message.headers.empty()) {
      std::size_t h = message.headers[below(message.headers.size())];
      if (h < frames.size()) return h;
    }
    return below(frames.size());
  }

  static std::vector<std::byte> bytes_of(const Buffer& b) {
    return {b.data(), b.data() + b.size()};
  }
  static Buffer buffer_of(const std::vector<std::byte>& v) {
    return Buffer::copy_of(v.data(), v.size());
  }

  void mutate_once(const Message& message, Frames& frames) {
    if (frames.empty()) {
      frames.push_back(Buffer{});
      return;
    }
    static constexpr std::uint8_t interesting[] = {
        0x00, 0xff, 0x7f, 0x80, 0x01, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xca,
        0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
        0x90, 0x91, 0x92, 0x93, 0x95, 0x9f, 0x81, 0x8f, 0xa0, 0xa4, 0xbf, 0xe0};
    // msgpack headers that claim huge lengths or values.
    static const std::vector<std::vector<std::uint8_t>> big_claims = {
        {0xdd, 0xff, 0xff, 0xff, 0xff},                          // array32 of 2^32-1 items
        {0xdf, 0xff, 0xff, 0xff, 0xff},                          // map32 of 2^32-1 entries
        {0xc6, 0xff, 0xff, 0xff, 0xff},                          // bin32 of 4 GB
        {0xc6, 0x7f, 0xff, 0xff, 0xff},                          // bin32 of 2 GB
        {0xdb, 0xff, 0xff, 0xff, 0xf0},                          // str32 of 4 GB
        {0xdc, 0xff, 0xff},                                      // array16 of 65535 items
        {0xde, 0xff, 0xff},                                      // map16 of 65535 entries
        {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},  // uint64 max
        {0xcf, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00},  // 2^40
        {0xcf, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // 2^63
        {0xd3, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // int64 min
        {0xce, 0xff, 0xff, 0xff, 0xff},                          // uint32 max
    };
    switch (below(12)) {
      case 0:
      case 1: {  // bit flip
        std::size_t f = pick_frame(message, frames);
        if (frames[f].empty()) return;
        auto bytes = bytes_of(frames[f]);
        bytes[below(bytes.size())] ^= static_cast<std::byte>(1u << below(8));
        frames[f] = buffer_of(bytes);
        return;
      }
      case 2:
      case 3: {  // byte overwrite with an interesting value
        std::size_t f = pick_frame(message, frames);
        if (frames[f].empty()) return;
        auto bytes = bytes_of(frames[f]);
        bytes[below(bytes.size())] =
            static_cast<std::byte>(interesting[below(std::size(interesting))]);
        frames[f] = buffer_of(bytes);
        return;
      }
      case 4: {  // a huge claim written over the bytes
        std::size_t f = pick_frame(message, frames);
        if (frames[f].empty()) return;
        auto bytes = bytes_of(frames[f]);
        const auto& claim = big_claims[below(big_claims.size())];
        std::size_t at = below(bytes.size());
        for (std::size_t i = 0; i < claim.size() && at + i < bytes.size(); ++i) {
          bytes[at + i] = static_cast<std::byte>(claim[i]);
        }
        frames[f] = buffer_of(bytes);
        return;
      }
      case 5: {  // truncate one frame
        std::size_t f = pick_frame(message, frames);
        frames[f] = frames[f].slice(0, below(frames[f].size() + 1));
        return;
      }
      case 6:  // truncate the frame list
        frames.resize(below(frames.size()));
        return;
      case 7: {  // reorder: swap two frames, or rotate
        if (below(2) == 0) {
          std::swap(frames[below(frames.size())], frames[below(frames.size())]);
        } else {
          std::rotate(frames.begin(),
                      frames.begin() + static_cast<std::ptrdiff_t>(below(frames.size())),
                      frames.end());
        }
        return;
      }
      case 8: {  // duplicate a frame
        std::size_t f = below(frames.size());
        Buffer copy = frames[f];
        frames.insert(frames.begin() + static_cast<std::ptrdiff_t>(below(frames.size() + 1)), copy);
        return;
      }
      case 9:  // insert an empty frame
        frames.insert(frames.begin() + static_cast<std::ptrdiff_t>(below(frames.size() + 1)),
                      Buffer{});
        return;
      case 10: {  // swap in the header frame of another message
        const Message& other = messages_[below(messages_.size())];
        const Buffer& header = other.frames[other.headers[below(other.headers.size())]];
        frames[pick_frame(message, frames)] = header;
        return;
      }
      default: {  // drop a frame, or append random bytes to one
        if (below(2) == 0) {
          frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(below(frames.size())));
        } else {
          std::size_t f = pick_frame(message, frames);
          auto bytes = bytes_of(frames[f]);
          std::size_t extra = 1 + below(8);
          for (std::size_t i = 0; i < extra; ++i)
            bytes.push_back(static_cast<std::byte>(below(256)));
          frames[f] = buffer_of(bytes);
        }
        return;
      }
    }
  }

  std::mt19937_64 rng_;
  const std::vector<Message>& messages_;
};

struct Outcomes {
  std::size_t successes = 0;
  std::size_t errors = 0;
  std::array<std::size_t, errc_count> by_code{};
  std::size_t foreign = 0;  // exceptions other than cannery::error
  std::string first_foreign;
  std::uint64_t checksum = 0;

  template <class F>
  void run(F&& f, std::size_t iteration, const char* where) {
    try {
      checksum += f();
      ++successes;
    } catch (const cannery::error& e) {
      ++errors;
      const auto index = static_cast<std::size_t>(e.code());
      if (index < errc_count && !e.message().empty()) {
        ++by_code[index];
      } else {
        note_foreign(iteration, where, "cannery::error with an unknown code or no message");
      }
    } catch (const std::exception& e) {
      note_foreign(iteration, where, std::string(typeid(e).name()) + ": " + e.what());
    } catch (...) {
      note_foreign(iteration, where, "a non-std exception");
    }
  }

  void note_foreign(std::size_t iteration, const char* where, const std::string& what) {
    if (foreign++ == 0) {
      first_foreign = "iteration " + std::to_string(iteration) + " (" + where + "): " + what;
    }
  }
};

// The receiver's loop: one object after another until no frame is left.
std::uint64_t receive_all(std::span<const Buffer> frames) {
  std::uint64_t sum = 0;
  std::span<const Buffer> rest = frames;
  while (!rest.empty()) {
    auto [object, remaining] = cannery::deserialize_object(rest);
    if (remaining.size() >= rest.size())
      throw std::logic_error("deserialize_object consumed no frame");
    sum += touch(object);
    rest = remaining;
  }
  return sum;
}

}  // namespace

TEST_CASE("100,000 mutated messages give a value or a cannery::error, nothing else",
          "[canning][hostile]") {
  cannery::register_type<hostile::Particle>();
  const std::vector<Canned> corpus = make_corpus();
  const std::vector<Typed> receivers = typed_receivers();

  // Messages of one to four objects; every corpus object leads one message.
  std::mt19937_64 rng(0x5eed'cafe'f00dULL);
  // The unregistered struct only ever comes last, as the lone object of its
  // own message, so that every other message reads back whole.
  const std::size_t readable = corpus.size() - 1;
  std::vector<Message> messages;
  for (std::size_t m = 0; m < 96; ++m) {
    Message message;
    const std::size_t objects = m < corpus.size() ? 1 + m % 2 : 1 + rng() % 4;
    for (std::size_t o = 0; o < objects; ++o) {
      const bool lead = o == 0 && m < corpus.size();
      if (!lead && m == readable) break;
      const std::size_t index = lead ? m : rng() % readable;
      const Canned& c = corpus[index];
      if (o == 0) message.lead = index;
      message.headers.push_back(message.frames.size());
      message.frames.insert(message.frames.end(), c.frames.begin(), c.frames.end());
    }
    messages.push_back(std::move(message));
  }

  // Unmutated, every message reads back whole (the untyped loop), and every
  // object is read by at least one typed receiver.
  for (std::size_t m = 0; m < messages.size(); ++m) {
    if (m == readable) {
      CHECK_THROWS_AS(receive_all(messages[m].frames), cannery::error);
    } else {
      CHECK_NOTHROW(receive_all(messages[m].frames));
    }
  }
  // Which typed receivers read each corpus object: the fuzz loop aims one of
  // them at every message so that typed uncanning gets past the type check.
  std::vector<std::vector<std::size_t>> readers(corpus.size());
  for (std::size_t c = 0; c < corpus.size(); ++c) {
    for (std::size_t r = 0; r < receivers.size(); ++r) {
      try {
        receivers[r](corpus[c].frames);
        readers[c].push_back(r);
      } catch (const cannery::error&) {
      }
    }
    INFO(corpus[c].what);
    CHECK(!readers[c].empty());
  }

  constexpr std::size_t iterations = 100'000;
  Mutator mutator(0xc0ffee'1234ULL, messages);
  Outcomes untyped;
  Outcomes typed_outcomes;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) {
    const Message& message = messages[i % messages.size()];
    const Frames frames = mutator.mutate(message);
    untyped.run([&] { return receive_all(frames); }, i, "untyped loop");
    // Two typed receivers per message: one that reads its first object when
    // intact, and one of all of them in turn.
    const auto& lead_readers = readers[message.lead];
    const Typed& first = receivers[lead_readers[(i / messages.size()) % lead_readers.size()]];
    const Typed& second = receivers[(i / messages.size() + i) % receivers.size()];
    typed_outcomes.run([&] { return first(frames); }, i, "typed receiver");
    typed_outcomes.run([&] { return second(frames); }, i, "typed receiver");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << "hostile input: " << iterations << " mutated messages in " << seconds << " s\n"
            << "  untyped loop: " << untyped.successes << " successes, " << untyped.errors
            << " errors\n"
            << "  typed:        " << typed_outcomes.successes << " successes, "
            << typed_outcomes.errors << " errors\n"
            << "  checksum of everything read: " << (untyped.checksum ^ typed_outcomes.checksum)
            << "\n";
  for (std::size_t c = 0; c < errc_count; ++c) {
    const auto code = static_cast<errc>(c);
    const std::size_t n = untyped.by_code[c] + typed_outcomes.by_code[c];
    if (n != 0) {
      std::cout << "  " << cannery::to_string(code) << ": " << untyped.by_code[c] << " untyped, "
                << typed_outcomes.by_code[c] << " typed\n";
      // Every code that occurs has a stable name.
      CHECK(cannery::to_string(code) != "unknown_error");
    }
  }

  INFO(untyped.first_foreign);
  INFO(typed_outcomes.first_foreign);
  REQUIRE(untyped.foreign == 0);
  REQUIRE(typed_outcomes.foreign == 0);
  REQUIRE(untyped.successes > 0);
  REQUIRE(untyped.errors > 0);
  REQUIRE(typed_outcomes.successes > 0);
  REQUIRE(typed_outcomes.errors > 0);
  std::size_t counted = 0;
  for (std::size_t c = 0; c < errc_count; ++c)
    counted += untyped.by_code[c] + typed_outcomes.by_code[c];
  REQUIRE(counted == untyped.errors + typed_outcomes.errors);
  // The mutations reach every stage of the reader.
  for (errc expected :
       {errc::truncated_header, errc::malformed_header, errc::missing_buffers, errc::shape_mismatch,
        errc::type_mismatch, errc::limit_exceeded, errc::unknown_tag, errc::value_out_of_range}) {
    INFO(cannery::to_string(expected));
    CHECK(untyped.by_code[static_cast<std::size_t>(expected)] +
              typed_outcomes.by_code[static_cast<std::size_t>(expected)] >
          0);
  }
}

// --- Claims far beyond the bytes that arrived ---------------------------------

namespace {

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Packs a header [1, root, nbuffers] where `root` writes raw msgpack bytes.
Buffer raw_header(const std::vector<std::uint8_t>& root, std::uint64_t nbuffers = 0) {
  msgpack::sbuffer sbuf;
  msgpack::packer<msgpack::sbuffer> pk(sbuf);
  pk.pack_array(3);
  pk.pack_uint64(1);
  sbuf.write(reinterpret_cast<const char*>(root.data()), root.size());
  pk.pack_uint64(nbuffers);
  return Buffer::copy_of(sbuf.data(), sbuf.size());
}

// An ndarray header whose shape, strides, data and offset are given.
Buffer ndarray_header(const char* dtype, const std::vector<std::uint64_t>& shape,
                      const std::vector<std::int64_t>& strides, std::size_t inline_bytes,
                      std::uint64_t offset = 0) {
  msgpack::sbuffer sbuf;
  msgpack::packer<msgpack::sbuffer> pk(sbuf);
  pk.pack_array(3);
  pk.pack_uint64(1);
  cannery::test::pack_ndarray_start(pk, dtype, shape, strides);
  std::vector<char> data(inline_bytes, 1);
  pk.pack_bin(static_cast<std::uint32_t>(data.size()));
  pk.pack_bin_body(data.data(), static_cast<std::uint32_t>(data.size()));
  pk.pack_uint64(offset);
  pk.pack_uint64(0);
  return Buffer::copy_of(sbuf.data(), sbuf.size());
}

// Runs `receive` and requires a cannery::error of the given code, within a
// second and without the process growing by more than 64 MB.
template <class F>
void require_refused_quickly(F&& receive, errc expected) {
  const long rss_before = max_rss_kib();
  const auto start = std::chrono::steady_clock::now();
  bool refused = false;
  try {
    receive();
  } catch (const cannery::error& e) {
    INFO(e.what());
    CHECK(e.code() == expected);
    refused = true;
  } catch (const std::bad_alloc&) {
    FAIL("std::bad_alloc: the reader allocated for a claim before checking it");
  } catch (const std::exception& e) {
    FAIL(std::string("not a cannery::error: ") + e.what());
  }
  CHECK(refused);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(max_rss_kib() - rss_before < 64 * 1024);
}

template <class T>
void require_refused_everywhere(const Frames& frames, errc expected) {
  require_refused_quickly([&] { (void)cannery::deserialize_object(frames); }, expected);
  require_refused_quickly([&] { (void)cannery::deserialize_object<T>(frames); }, expected);
}

}  // namespace

TEST_CASE("a few bytes claiming billions of items are refused without allocating",
          "[canning][hostile]") {
  SECTION("an array of 2^32-1 items") {
    const Frames frames{raw_header({0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0})};
    REQUIRE(frames[0].size() <= 12);
    require_refused_everywhere<std::vector<int>>(frames, errc::malformed_header);
  }
  SECTION("a list of 2^32-1 items") {
    const Frames frames{raw_header({0x92, 0xa4, 'l', 'i', 's', 't', 0xdd, 0xff, 0xff, 0xff, 0xff})};
    require_refused_everywhere<std::vector<std::string>>(frames, errc::malformed_header);
  }
  SECTION("a map of 2^32-1 entries") {
    const Frames frames{raw_header({0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01})};
    require_refused_everywhere<std::map<std::string, int>>(frames, errc::malformed_header);
  }
  SECTION("a bin32 of 4 GB") {
    const Frames frames{raw_header({0xc6, 0xff, 0xff, 0xff, 0xff, 0x00})};
    require_refused_everywhere<std::vector<std::byte>>(frames, errc::truncated_header);
  }
  SECTION("a str32 of 4 GB") {
    const Frames frames{raw_header({0xdb, 0xff, 0xff, 0xff, 0xff, 'x'})};
    require_refused_everywhere<std::string>(frames, errc::truncated_header);
  }
  SECTION("an ndarray of shape [2^40]") {
    const Frames frames{ndarray_header("<f8", {std::uint64_t{1} << 40}, {8}, 16)};
    require_refused_everywhere<std::vector<double>>(frames, errc::shape_mismatch);
    require_refused_quickly([&] { (void)cannery::deserialize_object<Eigen::VectorXd>(frames); },
                            errc::shape_mismatch);
  }
  SECTION("an ndarray of shape [2^40] with stride 0 (broadcast)") {
    const Frames frames{ndarray_header("<f8", {std::uint64_t{1} << 40}, {0}, 8)};
    require_refused_everywhere<std::vector<double>>(frames, errc::shape_mismatch);
  }
  SECTION("an ndarray whose shape product overflows") {
    const Frames frames{
        ndarray_header("<f8", {std::uint64_t{1} << 33, std::uint64_t{1} << 33}, {8, 8}, 16)};
    require_refused_everywhere<Eigen::MatrixXd>(frames, errc::limit_exceeded);
  }
  SECTION("an ndarray whose size in bytes overflows") {
    const Frames frames{ndarray_header("<f8", {std::uint64_t{1} << 62}, {8}, 16)};
    require_refused_everywhere<std::vector<double>>(frames, errc::limit_exceeded);
  }
  SECTION("an ndarray whose strides overflow") {
    const std::int64_t huge = std::int64_t{1} << 62;
    const Frames frames{ndarray_header("<f8", {2, 2}, {huge, huge}, 32)};
    require_refused_everywhere<Eigen::MatrixXd>(frames, errc::limit_exceeded);
    const Frames negative{ndarray_header("<f8", {3, 3}, {-huge, -huge}, 72, 8)};
    require_refused_everywhere<Eigen::MatrixXd>(negative, errc::limit_exceeded);
  }
  SECTION("an empty ndarray whose other extent does not fit a signed index") {
    const Frames frames{ndarray_header("<f8", {0, std::uint64_t{1} << 63}, {8, 8}, 0)};
    require_refused_everywhere<Eigen::MatrixXd>(frames, errc::limit_exceeded);
  }
  SECTION("an empty ndarray whose offset lies far past its data") {
    const Frames frames{ndarray_header("<f8", {0}, {8}, 0, std::uint64_t{1} << 62)};
    require_refused_everywhere<std::span<const double>>(frames, errc::shape_mismatch);
  }
  SECTION("a header claiming 2^32 buffer frames") {
    const Frames frames{raw_header({0xc0}, std::uint64_t{1} << 32)};
    require_refused_everywhere<std::nullptr_t>(frames, errc::limit_exceeded);
  }
  SECTION("a header claiming the maximum number of buffers, with none following") {
    const Frames frames{raw_header({0xc0}, cannery::Limits{}.max_buffers)};
    require_refused_everywhere<std::nullptr_t>(frames, errc::missing_buffers);
  }
}

namespace {

// ["eigen.sparse", [rows, cols, order, values, inner, outer]], each array's
// bytes in a buffer frame of its own: a std::vector of exactly those bytes,
// so that a read past one is a read past its allocation.
Frames sparse_message(std::int64_t rows, std::int64_t cols, const char* order,
                      const std::vector<double>& values, const std::vector<std::int32_t>& inner,
                      const std::vector<std::int32_t>& outer) {
  msgpack::sbuffer sbuf;
  msgpack::packer<msgpack::sbuffer> pk(sbuf);
  Frames frames(1);
  auto array = [&](const char* dtype, const auto& items) {
    using Item = typename std::remove_cvref_t<decltype(items)>::value_type;
    pk.pack_array(2);
    pk.pack(std::string("ndarray"));
    pk.pack_array(5);
    pk.pack(std::string(dtype));
    pk.pack_array(1);
    pk.pack_uint64(items.size());
    pk.pack_array(1);
    pk.pack_int64(static_cast<std::int64_t>(sizeof(Item)));
    pk.pack_uint64(frames.size() - 1);
    pk.pack_uint64(0);
    frames.push_back(Buffer::take(std::vector<Item>(items)));
  };
  pk.pack_array(3);
  pk.pack_uint64(1);
  pk.pack_array(2);
  pk.pack(std::string("eigen.sparse"));
  pk.pack_array(6);
  pk.pack_int64(rows);
  pk.pack_int64(cols);
  pk.pack(std::string(order));
  array("<f8", values);
  array("<i4", inner);
  array("<i4", outer);
  pk.pack_uint64(3);
  frames[0] = Buffer::copy_of(sbuf.data(), sbuf.size());
  return frames;
}

using ColMajor = Eigen::SparseMatrix<double>;
using RowMajor = Eigen::SparseMatrix<double, Eigen::RowMajor>;
using ColMap = Eigen::Map<const ColMajor>;

void refused_by_all(const Frames& frames, errc expected) {
  require_refused_quickly([&] { (void)cannery::deserialize_object(frames); }, expected);
  require_refused_quickly([&] { (void)cannery::deserialize_object<ColMajor>(frames); }, expected);
  require_refused_quickly([&] { (void)cannery::deserialize_object<RowMajor>(frames); }, expected);
  require_refused_quickly([&] { (void)cannery::deserialize_object<ColMap>(frames); }, expected);
}

}  // namespace

TEST_CASE("a sparse matrix cannot claim negative or unbounded dimensions", "[canning][hostile]") {
  SECTION("well formed, it reads back in either storage order") {
    const Frames frames = sparse_message(2, 3, "row", {1.0, 2.0}, {0, 2}, {0, 1, 2});
    const ColMajor col = cannery::deserialize_object<ColMajor>(frames).value;
    const RowMajor row = cannery::deserialize_object<RowMajor>(frames).value;
    CHECK(col.coeff(0, 0) == 1.0);
    CHECK(col.coeff(1, 2) == 2.0);
    CHECK(row.coeff(1, 2) == 2.0);
    CHECK(col.nonZeros() == 2);
  }
  SECTION("a negative column count, with no outer starts") {
    refused_by_all(sparse_message(3, -1, "col", {}, {}, {}), errc::value_out_of_range);
  }
  SECTION("a negative row count") {
    refused_by_all(sparse_message(-1, 1, "col", {1.0}, {0}, {0, 1}), errc::value_out_of_range);
  }
  SECTION("dimensions beyond the storage index type") {
    const std::int64_t huge = std::int64_t{1} << 40;
    refused_by_all(sparse_message(huge, 1, "col", {}, {}, {0, 0}), errc::value_out_of_range);
    refused_by_all(sparse_message(1, huge, "row", {}, {}, {0, 0}), errc::value_out_of_range);
  }
  SECTION("a huge inner dimension that a change of storage order would allocate") {
    const std::int64_t huge = std::int64_t{1} << 30;  // 4 GB of outer starts once converted
    const Frames rows = sparse_message(1, huge, "row", {}, {}, {0, 0});
    require_refused_quickly([&] { (void)cannery::deserialize_object<ColMajor>(rows); },
                            errc::limit_exceeded);
    require_refused_quickly([&] { (void)cannery::deserialize_object(rows); }, errc::limit_exceeded);
    // In the sender's storage order nothing is converted: it reads.
    const RowMajor as_sent = cannery::deserialize_object<RowMajor>(rows).value;
    CHECK(as_sent.cols() == huge);
    CHECK(as_sent.nonZeros() == 0);

    const Frames cols = sparse_message(huge, 1, "col", {}, {}, {0, 0});
    require_refused_quickly([&] { (void)cannery::deserialize_object<RowMajor>(cols); },
                            errc::limit_exceeded);
    CHECK(cannery::deserialize_object<ColMajor>(cols).value.rows() == huge);
  }
}

TEST_CASE("sparse outer starts past the values are refused before an inner index is read",
          "[canning][hostile]") {
  // 8 x 4, column-major, 4 values: the inner indices fill their frame's
  // allocation. Column 0 claims values [0, 5): a reader that
  // walks a column before checking every start reads inner index 4, past the
  // frame (AddressSanitizer reports it), and refuses the matrix for what it
  // found there instead of for its outer starts.
  const Frames frames =
      sparse_message(8, 4, "col", {1.0, 2.0, 3.0, 4.0}, {0, 1, 2, 3}, {0, 5, 5, 5, 4});
  refused_by_all(frames, errc::shape_mismatch);
  for (const auto& receive : std::vector<std::function<void()>>{
           [&] { (void)cannery::deserialize_object(frames); },
           [&] { (void)cannery::deserialize_object<ColMajor>(frames); },
           [&] { (void)cannery::deserialize_object<RowMajor>(frames); },
           [&] { (void)cannery::deserialize_object<ColMap>(frames); }}) {
    try {
      receive();
      FAIL("the matrix was accepted");
    } catch (const cannery::error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("outer start") != std::string::npos);
    }
  }
  // A start past the values in the middle, with a valid last one.
  refused_by_all(sparse_message(8, 4, "col", {1.0, 2.0, 3.0, 4.0}, {0, 1, 2, 3}, {0, 1, 7, 2, 4}),
                 errc::shape_mismatch);
}

// --- One decode budget per message ------------------------------------------

namespace {

// An empty 1 x cols row-major matrix: 3 tiny arrays, whatever `cols` is. Its
// column-major copy needs cols + 1 outer starts that no received byte stands
// for.
Eigen::SparseMatrix<double, Eigen::RowMajor> empty_wide_row(Eigen::Index cols) {
  Eigen::SparseMatrix<double, Eigen::RowMajor> m(1, cols);
  m.makeCompressed();
  return m;
}

std::size_t total_bytes(std::span<const Buffer> frames) {
  std::size_t bytes = 0;
  for (const Buffer& f : frames)
    bytes += f.size();
  return bytes;
}

// Peak virtual size of this process: what was reserved, touched or not.
long vm_peak_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmPeak:", 0) == 0) return std::stol(line.substr(7));
  }
  return -1;
}

// What spending the default allowance (64 MiB) may add to the peak RSS. Under
// AddressSanitizer it costs more: shadow memory, and a quarantine that keeps
// freed blocks from being reused. Without the shared budget, 512 MB.
#if defined(__SANITIZE_ADDRESS__)
constexpr long allowance_rss_kib = 200 * 1024;
#else
constexpr long allowance_rss_kib = 100 * 1024;
#endif

}  // namespace

TEST_CASE("the sparse matrices of one message share one decode budget", "[canning][hostile]") {
  // 16 empty 1 x 8,000,000 matrices: 2 KB that asked for 16 x 32 MB of outer
  // starts in the other storage order, each under a bound of its own.
  const Frames frames =
      cannery::serialize_object(std::vector<RowMajor>(16, empty_wide_row(8'000'000)));
  REQUIRE(total_bytes(frames) < 4096);
  auto refused = [&](auto receive) {
    const long rss_before = max_rss_kib();
    try {
      receive();
      FAIL("all 16 were read");
    } catch (const cannery::error& e) {
      INFO(e.what());
      CHECK(e.code() == errc::limit_exceeded);
      CHECK(std::string(e.what()).find("Limits::decoded_bytes_allowance") != std::string::npos);
    }
    // At most the default allowance was spent before the refusal.
    CHECK(max_rss_kib() - rss_before < allowance_rss_kib);
  };
  refused([&] { (void)cannery::deserialize_object(frames); });
  refused([&] { (void)cannery::deserialize_object<std::vector<ColMajor>>(frames); });
  // In the sender's storage order the outer starts arrived: they read.
  CHECK(cannery::deserialize_object<std::vector<RowMajor>>(frames).value.size() == 16);

  // The arguments of one call share one budget too, whether read with
  // next_arg or, as an engine does, from next_arg_frames() with limits().
  const RowMajor wide = empty_wide_row(8'000'000);
  const Frames call_frames = cannery::pack_apply_message("f", wide, wide, wide, wide, wide, wide);
  REQUIRE(total_bytes(call_frames) < 4096);
  refused([&] {
    cannery::ApplyMessage call = cannery::unpack_apply_message(call_frames);
    for (std::size_t i = 0; i < call.nargs(); ++i)
      (void)call.next_arg<ColMajor>();
  });
  refused([&] {
    cannery::ApplyMessage call = cannery::unpack_apply_message(call_frames);
    for (std::size_t i = 0; i < call.nargs(); ++i)
      (void)cannery::deserialize_object<ColMajor>(call.next_arg_frames(), call.limits());
  });
  // Separate messages have separate budgets.
  for (int i = 0; i < 3; ++i) {
    CHECK(cannery::deserialize_object<ColMajor>(cannery::serialize_object(wide)).value.cols() ==
          wide.cols());
  }
}

TEST_CASE("the decode budget is set by Limits", "[canning][hostile]") {
  const Frames frames = cannery::serialize_object(empty_wide_row(2'000'000));  // 8 MB converted
  CHECK(cannery::deserialize_object<ColMajor>(frames).value.cols() == 2'000'000);
  cannery::Limits strict;
  strict.decoded_bytes_allowance = 0;
  auto e = cannery::test::capture_error(
      [&] { (void)cannery::deserialize_object<ColMajor>(frames, strict); });
  CHECK(e.code() == errc::limit_exceeded);
  CHECK_THAT(e.message(),
             Catch::Contains("Limits::decoded_bytes_per_byte") && Catch::Contains("sparse matrix"));
  // Per received byte: a generous ratio admits it again.
  strict.decoded_bytes_per_byte = 8'000'008 / total_bytes(frames) + 1;
  CHECK(cannery::deserialize_object<ColMajor>(frames, strict).value.cols() == 2'000'000);
  // A budget of your own, linked, spans several objects.
  cannery::Limits limits;
  limits.decoded_bytes_allowance = 10'000'000;
  cannery::DecodeBudget budget(limits);
  limits.shared_budget.link(&budget);
  CHECK_NOTHROW(cannery::deserialize_object<ColMajor>(frames, limits));
  CHECK(budget.used() == 8'000'004);
  e = cannery::test::capture_error(
      [&] { (void)cannery::deserialize_object<ColMajor>(frames, limits); });
  CHECK(e.code() == errc::limit_exceeded);
  // A copy of the Limits is not linked: it reads with a budget of its own.
  const cannery::Limits copy = limits;
  CHECK(copy.shared_budget.get() == nullptr);
  CHECK_NOTHROW(cannery::deserialize_object<ColMajor>(frames, copy));
}

TEST_CASE("an empty sparse matrix of 2^31 - 1 rows reserves nothing for its shape",
          "[canning][hostile]") {
  const std::int32_t rows = std::numeric_limits<std::int32_t>::max();
  const Frames frames = sparse_message(rows, 1, "col", {}, {}, {0, 0});
  const long peak_before = vm_peak_kib();
  REQUIRE(peak_before > 0);
  CHECK(cannery::deserialize_object<ColMajor>(frames).value.rows() == rows);
  const Object o = cannery::deserialize_object(frames).value;
  CHECK(o.kind() == Object::Kind::extension);
  // Eigen's own assignment reserved 2 x rows values and indices (24 GB).
  CHECK(vm_peak_kib() - peak_before < 256 * 1024);
  // Row-major, the result needs 2^31 outer starts (8 GB): over the budget,
  // refused before anything is allocated.
  require_refused_quickly([&] { (void)cannery::deserialize_object<RowMajor>(frames); },
                          errc::limit_exceeded);
  CHECK(vm_peak_kib() - peak_before < 256 * 1024);
}

// --- Decoded trees within the decode budget ----------------------------------

namespace {

// [1, ["list", [nil x count]], 0]: one byte per item.
Frames list_of_nils(std::size_t count) {
  msgpack::sbuffer sbuf;
  msgpack::packer<msgpack::sbuffer> pk(sbuf);
  pk.pack_array(3);
  pk.pack_uint64(1);
  pk.pack_array(2);
  pk.pack(std::string("list"));
  pk.pack_array(static_cast<std::uint32_t>(count));
  for (std::size_t i = 0; i < count; ++i)
    pk.pack_nil();
  pk.pack_uint64(0);
  return {Buffer::copy_of(sbuf.data(), sbuf.size())};
}

// [1, {"k0000000": nil, ...}, 0]: ten bytes per entry.
Frames dict_of_nils(std::size_t count) {
  msgpack::sbuffer sbuf;
  msgpack::packer<msgpack::sbuffer> pk(sbuf);
  pk.pack_array(3);
  pk.pack_uint64(1);
  pk.pack_map(static_cast<std::uint32_t>(count));
  char key[24];
  for (std::size_t i = 0; i < count; ++i) {
    const int length = std::snprintf(key, sizeof key, "k%07zu", i);
    pk.pack(std::string_view(key, static_cast<std::size_t>(length)));
    pk.pack_nil();
  }
  pk.pack_uint64(0);
  return {Buffer::copy_of(sbuf.data(), sbuf.size())};
}

template <class F>
void refused_for_the_budget(F&& receive, long max_growth_kib) {
  const long rss_before = max_rss_kib();
  auto e = cannery::test::capture_error(receive);
  INFO(e.what());
  CHECK(e.code() == errc::limit_exceeded);
  CHECK_THAT(e.message(), Catch::Contains("Limits::decoded_bytes_per_byte"));
  CHECK(max_rss_kib() - rss_before < max_growth_kib);
}

}  // namespace

TEST_CASE("a list of 8 million nils is refused before it becomes a gigabyte of Objects",
          "[canning][hostile]") {
  // 8 MB. As Objects (136 bytes each) it took 1.1 GB, 150 times its size;
  // the budget allows 32 times plus 64 MiB. Parsing the header alone costs
  // msgpack 24 bytes per item (192 MB), before any decoding.
  const Frames frames = list_of_nils(8'000'000);
  const auto message_kib = static_cast<long>(frames[0].size() / 1024);
  refused_for_the_budget([&] { (void)cannery::deserialize_object(frames); }, 40 * message_kib);
  // A typed receiver whose items are large is refused the same way...
  using Big = std::optional<std::array<double, 16>>;
  refused_for_the_budget([&] { (void)cannery::deserialize_object<std::vector<Big>>(frames); },
                         40 * message_kib);
  // ...and one whose items are small reads (8 bytes each).
  CHECK(cannery::deserialize_object<std::vector<std::nullptr_t>>(frames).value.size() == 8'000'000);
}

TEST_CASE("dicts are charged per entry as Object and as std::map", "[canning][hostile]") {
  const Frames frames = dict_of_nils(200'000);  // 2 MB
  // 200,000 Objects with their keys and tree nodes: about 40 MB, within budget.
  CHECK(cannery::deserialize_object(frames).value.to_dict().size() == 200'000);
  // 200,000 map entries of 1 KB each: 200 MB from 2 MB.
  using Big = std::map<std::string, std::optional<std::array<double, 128>>>;
  refused_for_the_budget([&] { (void)cannery::deserialize_object<Big>(frames); }, 64 * 1024);
}

TEST_CASE("the budget for decoded trees is set by Limits", "[canning][hostile]") {
  const Frames frames = list_of_nils(1'000'000);  // 1 MB, 136 MB of Objects
  refused_for_the_budget([&] { (void)cannery::deserialize_object(frames); }, 64 * 1024);
  cannery::Limits generous;
  generous.decoded_bytes_per_byte = 160;
  CHECK(cannery::deserialize_object(frames, generous).value.to_list().size() == 1'000'000);
}
