// libFuzzer target: deserialize_object<Eigen::MatrixXd> (owning; any
// strides), plus the same frames as a row-major float matrix, a fixed-size
// vector, and Eigen::Map<const MatrixXd> views in place (contiguous and any
// strides), on the frames of the input (fuzz_support.hpp).
#include <Eigen/Core>

#include "deserialize_typed.hpp"

namespace {
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const Eigen::MatrixXd>;
using StridedMap =
    Eigen::Map<const Eigen::MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<Eigen::MatrixXd, RowMajorF, Eigen::Vector3d, ConstMap,
                                          StridedMap>(data, size);
}
