// A tour of canning: five objects of different kinds in one message, the
// frames it becomes, and progressive uncanning on the other side.

#include <Eigen/Core>
#include <cannery/canning.hpp>
#include <iostream>
#include <string>
#include <vector>

namespace {

void print_object(const cannery::Object& obj) {
  using Kind = cannery::Object::Kind;
  switch (obj.kind()) {
    case Kind::ndarray: {
      const auto& a = obj.to_ndarray();
      std::cout << a.describe();
      if (a.ndim() == 2) {
        std::cout << ", as Eigen:\n" << obj.as<Eigen::MatrixXd>();
      } else {
        auto values = obj.as<std::vector<double>>();
        std::cout << ": first " << values.front() << ", last " << values.back();
      }
      break;
    }
    case Kind::floating:
      std::cout << "float " << obj.to_double();
      break;
    case Kind::integer:
      std::cout << "int " << obj.to_int64();
      break;
    case Kind::string:
      std::cout << "str \"" << obj.to_string() << '"';
      break;
    default:
      std::cout << obj.kind_name();
      break;
  }
  std::cout << '\n';
}

}  // namespace

int main() {
  Eigen::MatrixXd matrix(3, 4);
  matrix << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;
  std::vector<double> samples(100000);
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = 0.5 * static_cast<double>(i);

  // One message: each object's frames, concatenated. The 800 KB vector is
  // borrowed, not copied: its frame points at samples.data().
  std::vector<cannery::Buffer> message;
  for (auto canned : {cannery::can(matrix), cannery::can(samples), cannery::can(2.5),
                      cannery::can(std::int64_t{42}), cannery::can(std::string("hello engines"))}) {
    std::cout << "canned " << canned.tag << " into " << canned.frame_count() << " frame(s)\n";
    canned.append_to(message);
  }

  // Each step uncans one object from the front and hands back the rest.
  std::cout << "\nmessage of " << message.size() << " frames, uncanned progressively:\n";
  std::size_t index = 0;
  std::span<const cannery::Buffer> rest = message;
  while (!rest.empty()) {
    auto [obj, remaining] = cannery::deserialize_object(rest);
    const std::size_t used = rest.size() - remaining.size();
    for (std::size_t k = 0; k < used; ++k, ++index) {
      const cannery::Buffer& frame = message[index];
      std::cout << "  frame " << index << ": " << (k == 0 ? "header" : "buffer") << ", "
                << frame.size() << " bytes"
                << (frame.data() == reinterpret_cast<const std::byte*>(samples.data())
                        ? " (the vector's own memory: zero copy)"
                        : "")
                << '\n';
    }
    std::cout << "    -> ";
    print_object(obj);
    rest = remaining;
  }

  // Typed uncanning views the received memory where it can.
  auto [view, after] = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(message);
  std::cout << "\ntyped: Eigen::Map over the received frame, trace = " << view.trace() << " ("
            << after.size() << " frames left)\n";
  return 0;
}
