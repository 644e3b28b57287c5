#pragma once
// Eigen support.
//
// Dense: every Matrix / Array / Map / Block / Ref with direct access to its
// coefficients is canned as an ndarray: 1-D for compile-time vectors, 2-D
// (rows, cols) otherwise, with its real strides. Contiguous data (in either
// storage order) travels without a copy. A strided, non-contiguous block is
// gathered once, straight into the outgoing frame (or into the header when
// small), in the block's own storage order: a receiver needs one contiguous
// run to view the data in place, and one frame per column would only move the
// copy to the receiver and multiply the frame count.
//
// Uncanning: to a Matrix / Array (owning; any strides, any alignment), or to
// Eigen::Map<const ...> viewing the received frame in place (needs aligned
// data and strides the Map's StrideType can express; use
// Eigen::Map<const M, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> to
// accept any layout).
//
// Sparse: Eigen::SparseMatrix (compressed) is one ["eigen.sparse", [rows,
// cols, order, values, inner indices, outer starts]] object with three array
// buffers. Uncan to SparseMatrix (owning) or Eigen::Map<const SparseMatrix>
// (in place); every index is checked first.

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "cannery/canning/builtins/arrays.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {
namespace detail {

template <class T>
concept eigen_direct_dense = std::is_base_of_v<Eigen::DenseBase<T>, T> &&
    array_element<typename T::Scalar> &&
    ((static_cast<unsigned>(Eigen::internal::traits<T>::Flags) & Eigen::DirectAccessBit) != 0);

template <class T>
concept eigen_plain = std::is_base_of_v<Eigen::PlainObjectBase<T>, T>;

template <class T>
struct eigen_const_map : std::false_type {};
template <class Plain, int Options, class StrideType>
struct eigen_const_map<Eigen::Map<const Plain, Options, StrideType>>
    : std::bool_constant<eigen_plain<Plain>> {
  using plain = Plain;
  using stride = StrideType;
  static constexpr int options = Options;
};

// An NDArray view of any direct-access dense expression (nothing copied).
template <class T>
NDArray eigen_view(const T& m, Buffer data_owner) {
  using S = typename T::Scalar;
  const auto rs =
      static_cast<std::ptrdiff_t>(m.rowStride()) * static_cast<std::ptrdiff_t>(sizeof(S));
  const auto cs =
      static_cast<std::ptrdiff_t>(m.colStride()) * static_cast<std::ptrdiff_t>(sizeof(S));
  if constexpr (T::IsVectorAtCompileTime) {
    const std::ptrdiff_t stride = T::RowsAtCompileTime == 1 ? cs : rs;
    return NDArray(dtype_of<S>(), {static_cast<std::size_t>(m.size())}, {stride},
                   std::move(data_owner));
  } else {
    return NDArray(dtype_of<S>(),
                   {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())},
                   {rs, cs}, std::move(data_owner));
  }
}

// Bytes from the first coefficient to the end of the last one.
template <class T>
std::size_t eigen_extent_bytes(const T& m) {
  if (m.size() == 0) return 0;
  return static_cast<std::size_t>((m.rows() - 1) * m.rowStride() + (m.cols() - 1) * m.colStride() +
                                  1) *
         sizeof(typename T::Scalar);
}

// Rows, columns and strides (in bytes) of a received array for a target
// with the given compile-time dimensions; a 1-D array is a column (or, for
// a row vector, a row).
struct Layout2D {
  Eigen::Index rows, cols;
  std::ptrdiff_t row_stride, col_stride;
};
template <int Rows, int Cols>
Layout2D layout_of(const NDArray& a, const Node& n) {
  Layout2D l{};
  if (a.ndim() == 2) {
    l = {static_cast<Eigen::Index>(a.shape()[0]), static_cast<Eigen::Index>(a.shape()[1]),
         a.strides()[0], a.strides()[1]};
  } else if (a.ndim() == 1 && Rows == 1 && Cols != 1) {
    l = {1, static_cast<Eigen::Index>(a.shape()[0]), 0, a.strides()[0]};
  } else if (a.ndim() == 1) {
    l = {static_cast<Eigen::Index>(a.shape()[0]), 1, a.strides()[0], 0};
  } else {
    n.fail(errc::shape_mismatch, "an Eigen matrix needs a 1-D or 2-D array, got " + a.describe());
  }
  if ((Rows != Eigen::Dynamic && l.rows != Rows) || (Cols != Eigen::Dynamic && l.cols != Cols)) {
    n.fail(errc::shape_mismatch,
           "expected " + (Rows == Eigen::Dynamic ? std::string("any") : std::to_string(Rows)) +
               " x " + (Cols == Eigen::Dynamic ? std::string("any") : std::to_string(Cols)) +
               " coefficients, got " + a.describe());
  }
  // Strides of dimensions of extent 1 are never used to step.
  if (l.rows <= 1) l.row_stride = 0;
  if (l.cols <= 1) l.col_stride = 0;
  return l;
}

// The stride, in elements, that `bytes` stands for; -1 when it is not a
// non-negative multiple of the element size.
inline Eigen::Index element_stride(std::ptrdiff_t bytes, std::size_t itemsize) {
  if (bytes < 0 || bytes % static_cast<std::ptrdiff_t>(itemsize) != 0) return -1;
  return bytes / static_cast<std::ptrdiff_t>(itemsize);
}

template <class Plain>
Plain uncan_plain(const Node& n) {
  using S = typename Plain::Scalar;
  NDArray a = n.to_ndarray();
  Layout2D l = layout_of<Plain::RowsAtCompileTime, Plain::ColsAtCompileTime>(a, n);
  a.require_element(dtype_of<S>(), 1);
  Eigen::Index rs = element_stride(l.row_stride, sizeof(S));
  Eigen::Index cs = element_stride(l.col_stride, sizeof(S));
  if (rs < 0 || cs < 0 || reinterpret_cast<std::uintptr_t>(a.first_byte()) % alignof(S) != 0) {
    // Unusual layout: one gather into aligned C-order memory first.
    a = a.contiguous();
    rs = l.cols;
    cs = 1;
  }
  using Strided = Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>, 0,
                             Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  Strided view(reinterpret_cast<const S*>(a.first_byte()), l.rows, l.cols,
               Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(cs, rs));
  Plain out(l.rows, l.cols);
  if constexpr (std::is_base_of_v<Eigen::ArrayBase<Plain>, Plain>) {
    out = view.array();
  } else {
    out = view;
  }
  return out;
}

template <class MapType>
MapType uncan_const_map(const Node& n) {
  using Traits = eigen_const_map<MapType>;
  using Plain = typename Traits::plain;
  using StrideType = typename Traits::stride;
  using S = typename Plain::Scalar;
  NDArray a = n.to_ndarray();
  Layout2D l = layout_of<Plain::RowsAtCompileTime, Plain::ColsAtCompileTime>(a, n);
  constexpr std::size_t alignment = (Traits::options & Eigen::Aligned16) != 0
                                        ? std::max<std::size_t>(16, alignof(S))
                                        : alignof(S);
  a.require_element(dtype_of<S>(), alignment);
  const bool row_major = Plain::IsRowMajor;
  Eigen::Index inner = element_stride(row_major ? l.col_stride : l.row_stride, sizeof(S));
  Eigen::Index outer = element_stride(row_major ? l.row_stride : l.col_stride, sizeof(S));
  const Eigen::Index inner_size = row_major ? l.cols : l.rows;
  const Eigen::Index outer_size = row_major ? l.rows : l.cols;
  if (inner_size <= 1) inner = 1;
  if (outer_size <= 1) outer = inner_size;
  auto refuse = [&](const char* why) {
    n.fail(errc::shape_mismatch,
           std::string("cannot view ") + a.describe() + " in place as this Eigen::Map: " + why +
               "; uncan to an owning matrix, or to a Map with Eigen::Stride<Eigen::Dynamic, "
               "Eigen::Dynamic>");
  };
  if (inner < 0 || outer < 0) refuse("strides are not whole elements");
  constexpr int inner_ct = StrideType::InnerStrideAtCompileTime;
  constexpr int outer_ct = StrideType::OuterStrideAtCompileTime;
  if constexpr (inner_ct == 0) {
    if (inner != 1) refuse("its elements are not adjacent in the Map's storage order");
  } else if constexpr (inner_ct != Eigen::Dynamic) {
    if (inner != inner_ct) refuse("its inner stride differs from the Map's fixed one");
  }
  if constexpr (outer_ct == 0) {
    if (outer != inner_size) refuse("its columns (or rows) are not contiguous");
  } else if constexpr (outer_ct != Eigen::Dynamic) {
    if (outer != outer_ct) refuse("its outer stride differs from the Map's fixed one");
  }
  const S* data = reinterpret_cast<const S*>(a.first_byte());
  if constexpr (std::is_same_v<StrideType, Eigen::Stride<0, 0>>) {
    return MapType(data, l.rows, l.cols);
  } else if constexpr (inner_ct == 0) {
    return MapType(data, l.rows, l.cols, StrideType(outer));
  } else if constexpr (outer_ct == 0) {
    return MapType(data, l.rows, l.cols, StrideType(inner));
  } else {
    return MapType(data, l.rows, l.cols, StrideType(outer, inner));
  }
}

}  // namespace detail

template <detail::eigen_direct_dense T>
struct canner<T> {
  static constexpr std::string_view tag = format::tag_ndarray;

  static void can(Writer& w, const T& m) {
    write(w, m, Buffer::borrow(m.data(), detail::eigen_extent_bytes(m)));
  }
  // A plain matrix given by rvalue is moved behind the frame's owner.
  static void can(Writer& w, T&& m) requires detail::eigen_plain<T> {
    auto owner = std::make_shared<const T>(std::move(m));
    write(w, *owner, Buffer(owner->data(), detail::eigen_extent_bytes(*owner), owner));
  }

  static T uncan(const Node& n) requires detail::eigen_plain<T> {
    return detail::uncan_plain<T>(n);
  }
  static T uncan(const Node& n) requires detail::eigen_const_map<T>::value {
    return detail::uncan_const_map<T>(n);
  }

 private:
  static void write(Writer& w, const T& m, Buffer data) {
    NDArray view = detail::eigen_view(m, std::move(data));
    if (view.is_c_contiguous() || view.is_f_contiguous()) {
      w.ndarray_payload(view);
      return;
    }
    // Gather in the expression's own storage order: C order of the view, or
    // of its transpose for column-major data.
    NDArray ordered = view;
    if (!T::IsRowMajor && view.ndim() == 2) {
      ordered = NDArray(view.dtype(), {view.shape()[1], view.shape()[0]},
                        {view.strides()[1], view.strides()[0]}, view.data(), view.offset());
    }
    NDArray::Strides strides = c_strides(ordered.shape(), ordered.itemsize());
    if (ordered.ndim() == 2 && !T::IsRowMajor) std::swap(strides[0], strides[1]);
    w.ndarray_payload_filled(view.dtype(), view.shape(), strides, view.nbytes(),
                             [&](std::byte* out) { ordered.copy_to(out); });
  }
};

// --- Sparse -----------------------------------------------------------------

namespace detail {

// The three arrays of a compressed sparse matrix, checked against each other
// and against the dimensions so that Eigen never indexes out of range.
template <class S, class I>
struct SparseParts {
  Eigen::Index rows = 0, cols = 0;
  bool row_major = false;
  std::size_t nnz = 0;
  const S* values = nullptr;
  const I* inner = nullptr;
  const I* outer = nullptr;
  // Where the parts could not be read in place, what they were copied to.
  NDArray aligned_values;
  std::vector<I> inner_copy, outer_copy;
};

// How a receiver may take the parts: in place (Eigen::Map: exactly S and I,
// aligned), or into an owning matrix, which copies them anyway and so also
// takes parts that are misaligned, and indices of either width numpy and
// scipy write ('<i4', '<i8') as long as each one fits I.
enum class SparseRead { in_place, owning };

template <class S>
const S* sparse_values(const NDArray& a, SparseRead how, NDArray& aligned) {
  a.require_element(dtype_of<S>(), how == SparseRead::in_place ? alignof(S) : 1);
  if (reinterpret_cast<std::uintptr_t>(a.first_byte()) % alignof(S) == 0) {
    return reinterpret_cast<const S*>(a.first_byte());
  }
  aligned = a.contiguous();
  return reinterpret_cast<const S*>(aligned.first_byte());
}

template <class I, class J>
void copy_indices(const NDArray& a, std::vector<I>& out, const Node& n) {
  out.resize(a.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    J index;
    std::memcpy(&index, a.first_byte() + k * sizeof(J), sizeof(J));
    if (index < std::numeric_limits<I>::min() || index > std::numeric_limits<I>::max()) {
      n.fail(errc::shape_mismatch, "sparse index " + std::to_string(index) +
                                       " does not fit the receiving matrix's index type");
    }
    out[k] = static_cast<I>(index);
  }
}

template <class I>
const I* sparse_indices(const NDArray& a, SparseRead how, std::vector<I>& copy, const Node& n) {
  const bool native = a.dtype().is_native_order();
  if (native && a.dtype() == dtype_of<I>() &&
      reinterpret_cast<std::uintptr_t>(a.first_byte()) % alignof(I) == 0) {
    return reinterpret_cast<const I*>(a.first_byte());
  }
  if (how == SparseRead::in_place) {
    a.require_element(dtype_of<I>(), alignof(I));  // throws: the type or the alignment
  }
  if (native && a.dtype() == dtype_of<std::int32_t>()) {
    copy_indices<I, std::int32_t>(a, copy, n);
  } else if (native && a.dtype() == dtype_of<std::int64_t>()) {
    copy_indices<I, std::int64_t>(a, copy, n);
  } else {
    n.fail(errc::type_mismatch,
           "sparse indices must be signed integers of this machine's byte order ('<i4' or "
           "'<i8'), got " +
               a.describe());
  }
  return copy.data();
}

template <class S, class I>
SparseParts<S, I> read_sparse(const Node& n, SparseRead how) {
  n.expect_size(6);
  SparseParts<S, I> p;
  // Eigen indexes both dimensions with I: never negative, never beyond I.
  p.rows = n[0].to_integer<I>();
  p.cols = n[1].to_integer<I>();
  if (p.rows < 0 || p.cols < 0) {
    n.fail(errc::value_out_of_range, "sparse matrix of " + std::to_string(p.rows) + " x " +
                                         std::to_string(p.cols) + " has a negative dimension");
  }
  std::string_view order = n[2].to_string_view();
  if (order != "col" && order != "row") {
    n.fail(errc::malformed_header, "sparse storage order must be \"col\" or \"row\"");
  }
  p.row_major = order == "row";
  const NDArray values = n[3].as<NDArray>();
  const NDArray inner = n[4].as<NDArray>();
  const NDArray outer = n[5].as<NDArray>();
  for (const NDArray* a : {&values, &inner, &outer}) {
    if (a->ndim() != 1)
      n.fail(errc::shape_mismatch, "sparse parts must be 1-D, got " + a->describe());
    if (!a->is_c_contiguous()) n.fail(errc::shape_mismatch, "sparse parts must be contiguous");
  }
  const Eigen::Index outer_size = p.row_major ? p.rows : p.cols;
  const Eigen::Index inner_size = p.row_major ? p.cols : p.rows;
  p.nnz = values.size();
  if (outer.size() != static_cast<std::size_t>(outer_size) + 1 || inner.size() != p.nnz) {
    n.fail(errc::shape_mismatch,
           "sparse matrix of " + std::to_string(p.rows) + " x " + std::to_string(p.cols) +
               " needs " + std::to_string(outer_size + 1) + " outer starts and " +
               std::to_string(p.nnz) + " inner indices; got " + std::to_string(outer.size()) +
               " and " + std::to_string(inner.size()));
  }
  p.values = sparse_values<S>(values, how, p.aligned_values);
  p.inner = sparse_indices<I>(inner, how, p.inner_copy, n);
  p.outer = sparse_indices<I>(outer, how, p.outer_copy, n);
  const I* starts = p.outer;
  const I* indices = p.inner;
  const std::size_t nnz = p.nnz;
  // Every start first: only once all of them lie in [0, nnz] and never
  // decrease may a column's (row's) inner indices be read.
  if (starts[0] != 0 || static_cast<std::size_t>(starts[outer_size]) != nnz) {
    n.fail(errc::shape_mismatch, "sparse outer starts must run from 0 to the number of values (" +
                                     std::to_string(nnz) + ")");
  }
  for (Eigen::Index j = 0; j < outer_size; ++j) {
    if (starts[j + 1] < starts[j] || static_cast<std::size_t>(starts[j + 1]) > nnz) {
      n.fail(errc::shape_mismatch,
             "sparse outer start " + std::to_string(j + 1) + " (" + std::to_string(starts[j + 1]) +
                 ") decreases or lies past the number of values (" + std::to_string(nnz) + ")");
    }
  }
  for (Eigen::Index j = 0; j < outer_size; ++j) {
    for (I k = starts[j]; k < starts[j + 1]; ++k) {
      if (indices[k] < 0 || indices[k] >= inner_size ||
          (k > starts[j] && indices[k] <= indices[k - 1])) {
        n.fail(errc::shape_mismatch,
               "sparse inner indices must be increasing and within the matrix");
      }
    }
  }
  return p;
}

// An owning copy of checked parts, built in place: Eigen's own assignment
// from a Map reserves room from the shape alone (2 x the larger dimension:
// 24 GB of address space for an empty (2^31 - 1) x 1 matrix), and changing
// the storage order through it allocates a second array of outer starts.
template <class Sparse, class S, class I>
Sparse owning_sparse(const SparseParts<S, I>& p) {
  Sparse out(p.rows, p.cols);
  const auto nnz = static_cast<Eigen::Index>(p.nnz);
  out.resizeNonZeros(nnz);
  const I* starts = p.outer;
  const I* indices = p.inner;
  const S* values = p.values;
  I* out_starts = out.outerIndexPtr();
  I* out_indices = out.innerIndexPtr();
  S* out_values = out.valuePtr();
  const Eigen::Index received_outer = p.row_major ? p.rows : p.cols;
  if (p.row_major == static_cast<bool>(Sparse::IsRowMajor)) {
    std::copy_n(starts, received_outer + 1, out_starts);
    std::copy_n(indices, nnz, out_indices);
    std::copy_n(values, nnz, out_values);
    return out;
  }
  // The other storage order: count the values of each result column (row),
  // turn the counts into starts, then place each value at its column's
  // cursor. Walking the received outer dimension in order leaves the inner
  // indices of every result column increasing.
  const Eigen::Index result_outer = out.outerSize();
  std::fill_n(out_starts, result_outer + 1, I{0});
  for (Eigen::Index k = 0; k < nnz; ++k)
    ++out_starts[indices[k] + 1];
  for (Eigen::Index j = 0; j < result_outer; ++j)
    out_starts[j + 1] += out_starts[j];
  for (Eigen::Index j = 0; j < received_outer; ++j) {
    for (I k = starts[j]; k < starts[j + 1]; ++k) {
      const I slot = out_starts[indices[k]]++;
      out_indices[slot] = static_cast<I>(j);
      out_values[slot] = values[k];
    }
  }
  // Each cursor stopped at the next column's start: shift them back.
  for (Eigen::Index j = result_outer; j > 0; --j)
    out_starts[j] = out_starts[j - 1];
  out_starts[0] = 0;
  return out;
}

}  // namespace detail

template <class S, int Options, class I>
requires array_element<S>
struct canner<Eigen::SparseMatrix<S, Options, I>> {
  using Sparse = Eigen::SparseMatrix<S, Options, I>;
  static constexpr std::string_view tag = format::tag_sparse;

  static void can(Writer& w, const Sparse& m) {
    if (!m.isCompressed()) {  // the three-array form only exists compressed
      Sparse compressed = m;
      compressed.makeCompressed();
      can(w, std::move(compressed));
      return;
    }
    write(w, m, nullptr);
  }
  static void can(Writer& w, Sparse&& m) {
    m.makeCompressed();
    auto owner = std::make_shared<const Sparse>(std::move(m));
    write(w, *owner, owner);
  }
  static Sparse uncan(const Node& n) {
    auto p = detail::read_sparse<S, I>(n, detail::SparseRead::owning);
    // The result's outer starts are as many as its shape says, which in the
    // other storage order is the received inner dimension: no received byte
    // stands for them, so they are charged to the decode budget before
    // anything is allocated.
    const auto outer_size = static_cast<std::size_t>(Sparse::IsRowMajor ? p.rows : p.cols);
    n.charge(outer_size + 1, sizeof(I), "outer starts of an owning sparse matrix");
    return detail::owning_sparse<Sparse>(p);
  }

 private:
  template <class U>
  static NDArray part(const U* data, std::size_t count, const std::shared_ptr<const void>& owner) {
    return NDArray(dtype_of<U>(), {count}, Buffer(data, count * sizeof(U), owner));
  }
  static void write(Writer& w, const Sparse& m, const std::shared_ptr<const void>& owner) {
    const auto nnz = static_cast<std::size_t>(m.nonZeros());
    w.array(6);
    w.integer(m.rows());
    w.integer(m.cols());
    w.string(Sparse::IsRowMajor ? "row" : "col");
    w.write(part(m.valuePtr(), nnz, owner));
    w.write(part(m.innerIndexPtr(), nnz, owner));
    w.write(part(m.outerIndexPtr(), static_cast<std::size_t>(m.outerSize()) + 1, owner));
  }
};

// A read-only view of a received sparse matrix in place (no copy).
template <class S, int Options, class I>
requires array_element<S>
struct canner<Eigen::Map<const Eigen::SparseMatrix<S, Options, I>>> {
  using Sparse = Eigen::SparseMatrix<S, Options, I>;
  static constexpr std::string_view tag = format::tag_sparse;
  static Eigen::Map<const Sparse> uncan(const Node& n) {
    auto p = detail::read_sparse<S, I>(n, detail::SparseRead::in_place);
    if (p.row_major != static_cast<bool>(Sparse::IsRowMajor)) {
      n.fail(errc::type_mismatch,
             "sparse matrix arrived in the other storage order; uncan to an "
             "owning SparseMatrix to convert it");
    }
    return {p.rows, p.cols, static_cast<Eigen::Index>(p.nnz), p.outer, p.inner, p.values};
  }
};

}  // namespace cannery
