// Dynamic Objects: untyped deserialization of every built-in kind, as<T>()
// conversions, registered extension types, registry errors, Objects canned
// themselves, and progressive reading of a message of several objects.

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>
#include "test_support.hpp"

namespace dynamic_test {

struct Celsius {
  double degrees = 0;
};

// Another type that tries to use Celsius's tag.
struct Kelvin {
  double value = 0;
};

// A type whose tag nobody registers.
struct Unregistered {
  int code = 0;
};

// A type that tries to use a built-in tag.
struct FakeList {
  int n = 0;
};

}  // namespace dynamic_test

template <>
struct cannery::canner<dynamic_test::Celsius> {
  static constexpr std::string_view tag = "test.dynamic.celsius";
  static void can(cannery::Writer& w, const dynamic_test::Celsius& c) { w.write(c.degrees); }
  static dynamic_test::Celsius uncan(const cannery::Node& n) { return {n.as<double>()}; }
};

template <>
struct cannery::canner<dynamic_test::Kelvin> {
  static constexpr std::string_view tag = "test.dynamic.celsius";
  static void can(cannery::Writer& w, const dynamic_test::Kelvin& k) { w.write(k.value); }
  static dynamic_test::Kelvin uncan(const cannery::Node& n) { return {n.as<double>()}; }
};

template <>
struct cannery::canner<dynamic_test::Unregistered> {
  static constexpr std::string_view tag = "test.dynamic.never_registered";
  static void can(cannery::Writer& w, const dynamic_test::Unregistered& u) { w.write(u.code); }
  static dynamic_test::Unregistered uncan(const cannery::Node& n) { return {n.as<int>()}; }
};

template <>
struct cannery::canner<dynamic_test::FakeList> {
  static constexpr std::string_view tag = "list";
  static void can(cannery::Writer& w, const dynamic_test::FakeList& f) { w.write(f.n); }
  static dynamic_test::FakeList uncan(const cannery::Node& n) { return {n.as<int>()}; }
};

namespace {

using cannery::test::capture_error;
using cannery::test::wire;

using cannery::Object;
using Kind = cannery::Object::Kind;
using dynamic_test::Celsius;

template <class T>
Object dynamic(T&& value, const cannery::SerializeOptions& options = {}) {
  auto frames = wire(cannery::serialize_object(std::forward<T>(value), options));
  auto [object, rest] = cannery::deserialize_object(frames);
  CHECK(rest.empty());
  return object;
}

// Deep equality of two Objects (contents, not identity).
bool same(const Object& a, const Object& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::null:
      return true;
    case Kind::boolean:
      return a.to_bool() == b.to_bool();
    case Kind::integer: {
      auto text = [](const Object& o) {
        try {
          return std::to_string(o.to_int64());
        } catch (const cannery::error&) {
          return std::to_string(o.as<std::uint64_t>());
        }
      };
      return text(a) == text(b);
    }
    case Kind::floating:
      return a.to_double() == b.to_double();
    case Kind::complex:
      return a.as<std::complex<double>>() == b.as<std::complex<double>>();
    case Kind::string:
      return a.to_string() == b.to_string();
    case Kind::bytes:
      return a.to_bytes() == b.to_bytes();
    case Kind::list: {
      const auto& x = a.to_list();
      const auto& y = b.to_list();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!same(x[i], y[i])) return false;
      }
      return true;
    }
    case Kind::dict: {
      const auto& x = a.to_dict();
      const auto& y = b.to_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x) {
        auto it = y.find(key);
        if (it == y.end() || !same(value, it->second)) return false;
      }
      return true;
    }
    case Kind::ndarray: {
      const auto& x = a.to_ndarray();
      const auto& y = b.to_ndarray();
      return x.dtype() == y.dtype() && x.shape() == y.shape() &&
             x.contiguous().data() == y.contiguous().data();
    }
    case Kind::extension:
      return a.kind_name() == b.kind_name() && a.to_extension().entry == b.to_extension().entry;
  }
  return false;
}

}  // namespace

TEST_CASE("deserialize_object gives the right kind for each built-in", "[canning][object]") {
  CHECK(dynamic(nullptr).kind() == Kind::null);
  CHECK(dynamic(std::optional<int>()).is_null());
  CHECK(dynamic(std::monostate{}).kind() == Kind::null);

  auto t = dynamic(true);
  CHECK(t.kind() == Kind::boolean);
  CHECK(t.to_bool());

  auto i = dynamic(-42);
  CHECK(i.kind() == Kind::integer);
  CHECK(i.to_int64() == -42);
  CHECK(i.kind_name() == "int");

  auto big = dynamic(std::numeric_limits<std::uint64_t>::max());
  CHECK(big.kind() == Kind::integer);
  CHECK(big.as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
  auto e = capture_error([&] { (void)big.to_int64(); });
  CHECK(e.code() == cannery::errc::value_out_of_range);

  auto d = dynamic(2.5);
  CHECK(d.kind() == Kind::floating);
  CHECK(d.to_double() == 2.5);
  CHECK(dynamic(0.75f).to_double() == 0.75);

  auto c = dynamic(std::complex<double>(1.0, -2.0));
  CHECK(c.kind() == Kind::complex);
  CHECK(c.as<std::complex<double>>() == std::complex<double>(1.0, -2.0));
  CHECK(dynamic(std::complex<float>(0.5f, 4.0f)).as<std::complex<float>>() ==
        std::complex<float>(0.5f, 4.0f));

  auto s = dynamic(std::string("text"));
  CHECK(s.kind() == Kind::string);
  CHECK(s.to_string() == "text");

  std::vector<std::byte> small_bytes(10, std::byte{1});
  std::vector<std::byte> large_bytes(5000, std::byte{2});
  auto sb = dynamic(small_bytes);
  CHECK(sb.kind() == Kind::bytes);
  CHECK(sb.to_bytes().size() == 10);
  auto lb = dynamic(large_bytes);
  CHECK(lb.kind() == Kind::bytes);
  CHECK(lb.as<std::vector<std::byte>>() == large_bytes);
  CHECK(dynamic(cannery::Buffer::copy_of("abc")).to_bytes().as_string_view() == "abc");

  auto l = dynamic(std::vector<std::string>{"a", "b"});
  CHECK(l.kind() == Kind::list);
  REQUIRE(l.to_list().size() == 2);
  CHECK(l.at(std::size_t{1}).to_string() == "b");
  CHECK(dynamic(std::make_tuple(1, std::string("x"), 2.0)).kind() == Kind::list);
  CHECK(dynamic(std::make_pair(1, 2)).kind() == Kind::list);

  auto m = dynamic(std::map<std::string, int>{{"k", 3}});
  CHECK(m.kind() == Kind::dict);
  CHECK(m.at("k").to_int64() == 3);
  auto missing = capture_error([&] { (void)m.at("nope"); });
  CHECK(missing.code() == cannery::errc::type_mismatch);

  auto v = dynamic(std::vector<double>{1, 2, 3});
  CHECK(v.kind() == Kind::ndarray);
  CHECK(v.to_ndarray().dtype().str() == "<f8");
  CHECK(dynamic(Eigen::MatrixXd::Ones(3, 4).eval()).to_ndarray().shape() ==
        cannery::NDArray::Shape{3, 4});
  CHECK(dynamic(std::array<int, 3>{1, 2, 3}).kind() == Kind::ndarray);
  CHECK(dynamic(std::vector<bool>{true, false}).kind() == Kind::ndarray);

  // Sparse matrices are registered out of the box.
  Eigen::SparseMatrix<double> sp(4, 4);
  sp.insert(1, 2) = 5.0;
  sp.makeCompressed();
  auto x = dynamic(sp);
  CHECK(x.kind() == Kind::extension);
  CHECK(x.kind_name() == "eigen.sparse");
  auto sp_back = x.as<Eigen::SparseMatrix<double>>();
  CHECK(sp_back.coeff(1, 2) == 5.0);
  CHECK(sp_back.nonZeros() == 1);

  // Checked access names both kinds.
  auto wrong = capture_error([&] { (void)s.to_list(); });
  CHECK(wrong.code() == cannery::errc::type_mismatch);
  CHECK_THAT(std::string(wrong.what()), Catch::Contains("list") && Catch::Contains("str"));
}

TEST_CASE("Object::as<T>() converts with the rules of typed uncanning", "[canning][object]") {
  Eigen::MatrixXd m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  auto om = dynamic(m);
  REQUIRE(om.kind() == Kind::ndarray);
  CHECK(om.as<Eigen::MatrixXd>() == m);
  CHECK(om.as<Eigen::Matrix<double, 3, 2>>() == m);
  auto shape = capture_error([&] { (void)om.as<Eigen::Matrix3d>(); });
  CHECK(shape.code() == cannery::errc::shape_mismatch);

  auto ov = dynamic(std::vector<int>{4, -5, 6});
  CHECK(ov.as<std::vector<int>>() == std::vector<int>{4, -5, 6});
  CHECK(ov.as<Eigen::VectorXi>() == Eigen::Vector3i(4, -5, 6));
  auto type = capture_error([&] { (void)ov.as<std::vector<double>>(); });
  CHECK(type.code() == cannery::errc::type_mismatch);

  auto od = dynamic(std::map<std::string, double>{{"a", 1.5}, {"b", -2.0}});
  CHECK(od.as<std::map<std::string, double>>() ==
        std::map<std::string, double>{{"a", 1.5}, {"b", -2.0}});
  // Integers in a dict read as doubles.
  auto oi = dynamic(std::map<std::string, int>{{"n", 7}});
  CHECK(oi.as<std::map<std::string, double>>().at("n") == 7.0);

  CHECK(dynamic(std::string("s")).as<std::string>() == "s");
  CHECK(dynamic(12).as<int>() == 12);
  CHECK(dynamic(12).as<double>() == 12.0);
  CHECK(dynamic(std::make_tuple(1, std::string("x"))).as<std::tuple<int, std::string>>() ==
        std::make_tuple(1, std::string("x")));
  auto nested = dynamic(std::map<std::string, std::vector<std::vector<double>>>{
      {"k", {std::vector<double>(300, 1.0), {2.0}}}});
  auto nested_back = nested.as<std::map<std::string, std::vector<std::vector<double>>>>();
  CHECK(nested_back.at("k").at(0).size() == 300);
  CHECK(nested_back.at("k").at(1) == std::vector<double>{2.0});
  CHECK(nested.as<Object>().kind() == Kind::dict);
}

TEST_CASE("arrays in an Object view the received frames, also through as<T>()",
          "[canning][object]") {
  std::vector<double> values(1000);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(i);
  auto frames = wire(cannery::serialize_object(values));
  REQUIRE(frames.size() == 2);
  auto object = cannery::deserialize_object(frames).value;
  CHECK(object.to_ndarray().first_byte() == frames[1].data());
  auto span = object.as<std::span<const double>>();
  CHECK(static_cast<const void*>(span.data()) == static_cast<const void*>(frames[1].data()));
  auto map = object.as<Eigen::Map<const Eigen::VectorXd>>();
  CHECK(static_cast<const void*>(map.data()) == static_cast<const void*>(frames[1].data()));
  CHECK(map(999) == 999.0);
}

TEST_CASE("a registered user type comes back as an extension Object", "[canning][object]") {
  const auto& entry = cannery::register_type<Celsius>();
  CHECK(entry.tag == "test.dynamic.celsius");
  // Registering the same type again is harmless and gives the same entry.
  CHECK(&cannery::register_type<Celsius>() == &entry);

  auto frames = wire(cannery::serialize_object(Celsius{21.5}));
  auto [object, rest] = cannery::deserialize_object(frames);
  CHECK(rest.empty());
  REQUIRE(object.kind() == Kind::extension);
  CHECK(object.kind_name() == "test.dynamic.celsius");
  CHECK(object.to_extension().entry == &entry);
  CHECK(object.as<Celsius>().degrees == 21.5);
  // Typed uncanning does not need the registry.
  CHECK(cannery::deserialize_object<Celsius>(frames).value.degrees == 21.5);
  // The wrong type is refused.
  CHECK_THROWS_AS(object.as<double>(), cannery::error);

  // Inside containers, too.
  std::map<std::string, std::vector<Celsius>> readings{{"room", {Celsius{20.0}, Celsius{22.5}}}};
  auto nested = dynamic(readings);
  const auto& list = nested.at("room").to_list();
  REQUIRE(list.size() == 2);
  CHECK(list[1].kind() == Kind::extension);
  CHECK(list[1].as<Celsius>().degrees == 22.5);
  CHECK(nested.as<std::map<std::string, std::vector<Celsius>>>().at("room").at(0).degrees == 20.0);
}

TEST_CASE("an unregistered tag is an unknown_tag error that says what to do", "[canning][object]") {
  auto frames = wire(cannery::serialize_object(dynamic_test::Unregistered{5}));
  auto e = capture_error([&] { (void)cannery::deserialize_object(frames); });
  CHECK(e.code() == cannery::errc::unknown_tag);
  CHECK_THAT(std::string(e.what()), Catch::Contains("test.dynamic.never_registered"));
  CHECK_THAT(std::string(e.what()), Catch::Contains("register"));
  // Nested deep inside a container as well.
  auto nframes = wire(cannery::serialize_object(
      std::map<std::string, std::vector<dynamic_test::Unregistered>>{{"x", {{1}, {2}}}}));
  auto ne = capture_error([&] { (void)cannery::deserialize_object(nframes); });
  CHECK(ne.code() == cannery::errc::unknown_tag);
  // The typed form still works.
  CHECK(cannery::deserialize_object<dynamic_test::Unregistered>(frames).value.code == 5);
}

TEST_CASE("registering a second type under a taken tag is a duplicate_tag error",
          "[canning][object]") {
  cannery::register_type<Celsius>();
  auto e = capture_error([] { (void)cannery::register_type<dynamic_test::Kelvin>(); });
  CHECK(e.code() == cannery::errc::duplicate_tag);
  CHECK_THAT(std::string(e.what()), Catch::Contains("test.dynamic.celsius"));
  // The first registration stands.
  auto object = dynamic(Celsius{3.0});
  CHECK(object.as<Celsius>().degrees == 3.0);

  auto builtin = capture_error([] { (void)cannery::register_type<dynamic_test::FakeList>(); });
  CHECK(builtin.code() == cannery::errc::duplicate_tag);
  auto sparse = capture_error(
      [] { (void)cannery::register_type<Eigen::SparseMatrix<double, Eigen::RowMajor>>(); });
  CHECK(sparse.code() == cannery::errc::duplicate_tag);
}

TEST_CASE("an Object can be canned and round-trips", "[canning][object]") {
  std::vector<double> data(500);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<double>(i) * 0.5;
  Object::Dict inner{{"flag", Object(false)}, {"nothing", Object()}};
  Object::Dict entries{
      {"int", Object(-7)},
      {"uint", Object(std::numeric_limits<std::uint64_t>::max())},
      {"float", Object(3.25)},
      {"complex", Object(std::complex<double>(1.0, 2.0))},
      {"str", Object("hello")},
      {"bytes", Object(cannery::Buffer::copy_of("raw\0bytes"))},
      {"big bytes", Object(cannery::Buffer::copy_of(std::string(3000, 'b')))},
      {"list", Object(Object::List{Object(1), Object("two"), Object(3.0), Object(nullptr)})},
      {"array", Object(cannery::NDArray::from_vector(std::vector<double>(data)))},
      {"small array", Object(cannery::NDArray::from_vector(std::vector<std::int16_t>{1, 2, 3}))},
      {"dict", Object(inner)},
      {"ext", Object::make_extension(Celsius{-40.0})},
  };
  Object original(entries);
  auto canned = cannery::can(original);
  CHECK(canned.tag == "dict");
  CHECK(canned.buffers.size() == 2);  // the big bytes and the big array
  auto frames = wire(canned.frames());
  auto [back, rest] = cannery::deserialize_object(frames);
  CHECK(rest.empty());
  CHECK(same(back, original));
  CHECK(back.at("ext").as<Celsius>().degrees == -40.0);
  CHECK(back.at("array").as<std::vector<double>>() == data);
  CHECK(back.at("uint").as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
  // Canning the received Object again gives the same Object.
  CHECK(same(dynamic(back), original));
  // A typed reader can read what an Object wrote.
  auto typed = cannery::deserialize_object<std::map<std::string, Object>>(frames).value;
  CHECK(typed.at("str").to_string() == "hello");
  auto list = cannery::uncan<std::tuple<int, std::string, double, std::nullptr_t>>(
      cannery::can(original.at("list")));
  CHECK(std::get<1>(list) == "two");
}

TEST_CASE("a message of several objects is read progressively", "[canning][object]") {
  Eigen::MatrixXd matrix = Eigen::MatrixXd::Random(30, 30);
  std::vector<float> vec(600, 1.25f);
  std::vector<cannery::Buffer> message;
  cannery::can(matrix).append_to(message);
  cannery::can(vec).append_to(message);
  cannery::can(6.5).append_to(message);
  cannery::can(-3).append_to(message);
  cannery::can(std::string("done")).append_to(message);
  REQUIRE(message.size() == 7);
  message = wire(message);

  std::span<const cannery::Buffer> rest = message;
  std::vector<Object> objects;
  std::vector<std::size_t> remaining_sizes;
  while (!rest.empty()) {
    auto [object, remaining] = cannery::deserialize_object(rest);
    REQUIRE(remaining.size() < rest.size());
    objects.push_back(std::move(object));
    remaining_sizes.push_back(remaining.size());
    rest = remaining;
  }
  CHECK(remaining_sizes == std::vector<std::size_t>{5, 3, 2, 1, 0});
  REQUIRE(objects.size() == 5);
  CHECK(objects[0].kind() == Kind::ndarray);
  CHECK(objects[0].as<Eigen::MatrixXd>() == matrix);
  CHECK(objects[1].kind() == Kind::ndarray);
  CHECK(objects[1].as<std::vector<float>>() == vec);
  CHECK(objects[2].to_double() == 6.5);
  CHECK(objects[3].to_int64() == -3);
  CHECK(objects[4].to_string() == "done");

  // The typed form walks the same message.
  std::span<const cannery::Buffer> typed = message;
  auto m = cannery::deserialize_object<Eigen::MatrixXd>(typed);
  auto v = cannery::deserialize_object<std::vector<float>>(m.remaining);
  auto d = cannery::deserialize_object<double>(v.remaining);
  auto i = cannery::deserialize_object<int>(d.remaining);
  auto s = cannery::deserialize_object<std::string>(i.remaining);
  CHECK(m.value == matrix);
  CHECK(s.value == "done");
  CHECK(s.remaining.empty());
  // Reading past the end is refused.
  auto e = capture_error([&] { (void)cannery::deserialize_object(s.remaining); });
  CHECK(e.code() == cannery::errc::missing_buffers);
}

TEST_CASE("Object::find looks up optional dict entries without throwing", "[canning][object]") {
  cannery::Object dict = cannery::Object::Dict{{"a", 1}};
  REQUIRE(dict.find("a") != nullptr);
  CHECK(dict.find("a")->to_int64() == 1);
  CHECK(dict.find("b") == nullptr);
  CHECK(cannery::Object(2.0).find("a") == nullptr);
  CHECK_THROWS_AS(cannery::Object(2.0).at("a"), cannery::error);
  CHECK_THROWS_AS(dict.at("b"), cannery::error);
}
