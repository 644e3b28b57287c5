// libFuzzer target: deserialize_object<Eigen::SparseMatrix<double>> in both
// storage orders (column-major and row-major, so that either arrival order is
// also converted), and Eigen::Map<const SparseMatrix> in place, on the frames
// of the input (fuzz_support.hpp).
#include <Eigen/SparseCore>

#include "deserialize_typed.hpp"

namespace {
using ColMajor = Eigen::SparseMatrix<double, Eigen::ColMajor>;
using RowMajor = Eigen::SparseMatrix<double, Eigen::RowMajor>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<ColMajor, RowMajor, Eigen::Map<const ColMajor>,
                                          Eigen::Map<const RowMajor>>(data, size);
}
