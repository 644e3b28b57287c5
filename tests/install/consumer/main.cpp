// A program outside the cannery tree, built against the installed package.
#include <cannery/canning.hpp>
#include <iostream>

int main() {
  auto frames = cannery::pack_apply_message("scale", std::vector<double>(6, 1.0), 2.5);
  auto call = cannery::unpack_apply_message(frames);
  auto values = call.next_arg<std::vector<double>>();
  double factor = call.next_arg<double>();
  std::cout << "consumer: " << values.size() << " x " << factor << " = "
            << static_cast<double>(values.size()) * factor << "\n";
  return 0;
}
