#pragma once
// for_each_run: the walk over a strided array shared by NDArray::contiguous()
// and the Eigen gather, so that both copy row runs with memcpy.

#include <cstddef>
#include <vector>

namespace cannery {

template <class Visit>
void for_each_run(const NDArray& array, Visit&& visit) {
  if (array.size() == 0) return;
  const std::size_t item = array.itemsize();
  const auto& shape = array.shape();
  const auto& strides = array.strides();
  std::size_t ndim = shape.size();
  if (ndim == 0) {
    visit(array.first_byte(), item);
    return;
  }
  // Fold trailing dimensions that are contiguous into one run.
  std::size_t run = item;
  std::size_t inner = ndim;
  while (inner > 0 && strides[inner - 1] == static_cast<std::ptrdiff_t>(run)) {
    run *= shape[inner - 1];
    --inner;
  }
  if (inner == ndim) {  // innermost dimension is strided: runs of one element
    run = item;
  }
  const std::size_t outer_dims = inner == ndim ? ndim : inner;
  std::vector<std::size_t> index(outer_dims, 0);
  const std::byte* base = array.first_byte();
  for (;;) {
    std::ptrdiff_t off = 0;
    for (std::size_t d = 0; d < outer_dims; ++d)
      off += static_cast<std::ptrdiff_t>(index[d]) * strides[d];
    visit(base + off, run);
    std::size_t d = outer_dims;
    while (d > 0) {
      --d;
      if (++index[d] < shape[d]) break;
      index[d] = 0;
      if (d == 0) return;
    }
    if (outer_dims == 0) return;
  }
}

}  // namespace cannery
