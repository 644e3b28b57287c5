// Receivers of dynamic Objects recognise sparse matrices out of the box, as
// Eigen::SparseMatrix<double> (the common case); other scalar types are read
// with deserialize_object<Eigen::SparseMatrix<T>>.

#include "cannery/canning/eigen.hpp"
#include "cannery/canning/registry.hpp"

namespace cannery::detail {
namespace {
[[maybe_unused]] const TypeEntry& sparse_double = register_type<Eigen::SparseMatrix<double>>();
}
}  // namespace cannery::detail
