// Round trips of Eigen types: dense matrices of every storage order and size,
// strided blocks (gathered), zero-copy sends and in-place Map views, the
// errors of mismatched shapes and types, and sparse matrices.

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <bit>
#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#include "test_support.hpp"

namespace {

using cannery::test::addr;
using cannery::test::capture_error;
using cannery::test::inside;
using cannery::test::round_trip;
using cannery::test::wire;

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using DynStride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;

template <class M>
M numbered(Eigen::Index rows, Eigen::Index cols) {
  M m(rows, cols);
  using S = typename M::Scalar;
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      if constexpr (cannery::detail::is_complex<S>::value) {
        using R = typename S::value_type;
        m(i, j) = S(static_cast<R>(i * 100 + j), static_cast<R>(j - i));
      } else {
        m(i, j) = static_cast<S>(i * 100 + j);
      }
    }
  }
  return m;
}

Eigen::SparseMatrix<double> random_sparse(Eigen::Index rows, Eigen::Index cols, int per_col) {
  std::vector<Eigen::Triplet<double>> triplets;
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (int k = 0; k < per_col; ++k) {
      Eigen::Index i = (j * 7 + k * 13) % rows;
      triplets.emplace_back(i, j, static_cast<double>(j) + 0.25 * k + 1.0);
    }
  }
  Eigen::SparseMatrix<double> m(rows, cols);
  m.setFromTriplets(triplets.begin(), triplets.end());
  return m;
}

template <class A, class B>
bool same_sparse(const A& a, const B& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || a.nonZeros() != b.nonZeros()) return false;
  return Eigen::MatrixXd(a) == Eigen::MatrixXd(b);
}

}  // namespace

TEST_CASE("dense Eigen matrices of either storage order round-trip", "[canning][eigen]") {
  for (Eigen::Index n : {Eigen::Index{0}, Eigen::Index{3}, Eigen::Index{40}}) {
    CAPTURE(n);
    auto col = numbered<Eigen::MatrixXd>(n, n + 2);
    auto row = numbered<RowMatrixXd>(n + 1, n);
    CHECK(round_trip(col) == col);
    CHECK(round_trip(row) == row);
    // Across storage orders: same coefficients.
    auto frames = wire(cannery::serialize_object(row));
    CHECK(cannery::deserialize_object<Eigen::MatrixXd>(frames).value == Eigen::MatrixXd(row));
    auto cframes = wire(cannery::serialize_object(col));
    CHECK(cannery::deserialize_object<RowMatrixXd>(cframes).value == RowMatrixXd(col));
  }
}

TEST_CASE("fixed-size, vector, array and complex Eigen types round-trip", "[canning][eigen]") {
  Eigen::Matrix3f m3 = numbered<Eigen::Matrix3f>(3, 3);
  CHECK(round_trip(m3) == m3);

  Eigen::Vector3d v3(1.5, -2.0, 8.25);
  CHECK(round_trip(v3) == v3);

  Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(500, -1.0, 1.0);
  CHECK(cannery::can(v).buffers.size() == 1);
  CHECK(round_trip(v) == v);
  // A vector is a 1-D array on the wire.
  auto vframes = cannery::serialize_object(v);
  auto array = cannery::deserialize_object<cannery::NDArray>(vframes).value;
  CHECK(array.shape() == cannery::NDArray::Shape{500});

  Eigen::RowVectorXi r(7);
  r << 1, -2, 3, -4, 5, -6, 7;
  CHECK(round_trip(r) == r);
  // A 1-D array read as a row vector, and a std::vector read as Eigen.
  auto rframes = cannery::serialize_object(std::vector<int>{4, 5, 6});
  auto rv = cannery::deserialize_object<Eigen::RowVectorXi>(rframes).value;
  REQUIRE(rv.size() == 3);
  CHECK(rv(2) == 6);

  Eigen::ArrayXXd a = numbered<Eigen::ArrayXXd>(20, 30);
  CHECK((round_trip(a) == a).all());

  Eigen::MatrixXcd cd = numbered<Eigen::MatrixXcd>(12, 9);
  CHECK(round_trip(cd) == cd);
  Eigen::MatrixXcf cf = numbered<Eigen::MatrixXcf>(5, 4);
  CHECK(round_trip(cf) == cf);
  auto cframes = cannery::serialize_object(cd);
  CHECK(cannery::deserialize_object<cannery::NDArray>(cframes).value.dtype().str() == "<c16");
}

TEST_CASE("an Eigen::Map of user memory is canned in place", "[canning][eigen]") {
  std::vector<double> storage(30 * 40);
  for (std::size_t i = 0; i < storage.size(); ++i)
    storage[i] = static_cast<double>(i) * 0.5;
  Eigen::Map<Eigen::MatrixXd> map(storage.data(), 30, 40);
  auto canned = cannery::can(map);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(addr(canned.buffers[0].data()) == addr(storage.data()));
  auto frames = wire(canned.frames());
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(frames).value == map);

  // A Map with an outer stride (every other column of the storage) is gathered.
  Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>> every_other(storage.data(), 30, 20,
                                                                   Eigen::OuterStride<>(60));
  auto strided = wire(cannery::serialize_object(every_other));
  REQUIRE(strided.size() == 2);
  CHECK(strided[1].size() == 30 * 20 * sizeof(double));
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(strided).value == every_other);
}

TEST_CASE("a strided block of a column-major matrix round-trips, small and large",
          "[canning][eigen]") {
  auto m = numbered<Eigen::MatrixXd>(6, 5);
  auto block = m.block(1, 1, 3, 2);
  Eigen::MatrixXd expected = block;
  auto canned = cannery::can(block);
  CHECK(canned.buffers.empty());
  auto frames = wire(canned.frames());
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(frames).value == expected);
  CHECK(cannery::deserialize_object<RowMatrixXd>(frames).value == RowMatrixXd(expected));
  // Gathered column-major: one contiguous run that a Map can view.
  auto view = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(frames).value;
  CHECK(view == expected);
  CHECK(inside(view.data(), frames[0]));

  // The same block out of band (threshold 0): gathered into its own frame.
  cannery::SerializeOptions oob;
  oob.buffer_threshold = 0;
  auto oob_frames = wire(cannery::serialize_object(block, oob));
  REQUIRE(oob_frames.size() == 2);
  CHECK(oob_frames[1].size() == 3 * 2 * sizeof(double));
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(oob_frames).value == expected);

  // A large block (> 1024 bytes) of a large matrix.
  auto big = numbered<Eigen::MatrixXd>(100, 80);
  auto big_block = big.block(1, 1, 30, 20);
  Eigen::MatrixXd big_expected = big_block;
  auto big_canned = cannery::can(big_block);
  REQUIRE(big_canned.buffers.size() == 1);
  CHECK(big_canned.buffers[0].size() == 30 * 20 * sizeof(double));
  auto big_frames = wire(big_canned.frames());
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(big_frames).value == big_expected);
  auto big_view = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(big_frames).value;
  CHECK(big_view == big_expected);
  CHECK(addr(big_view.data()) == addr(big_frames[1].data()));
}

TEST_CASE("a column slice of a row-major matrix round-trips, small and large", "[canning][eigen]") {
  auto m = numbered<RowMatrixXd>(6, 5);
  Eigen::VectorXd expected = m.col(2);
  auto canned = cannery::can(m.col(2));
  CHECK(canned.buffers.empty());
  auto frames = wire(canned.frames());
  CHECK(cannery::deserialize_object<Eigen::VectorXd>(frames).value == expected);
  CHECK(cannery::deserialize_object<std::vector<double>>(frames).value ==
        std::vector<double>(expected.data(), expected.data() + expected.size()));

  auto big = numbered<RowMatrixXd>(300, 5);
  Eigen::VectorXd big_expected = big.col(3);
  auto big_canned = cannery::can(big.col(3));
  REQUIRE(big_canned.buffers.size() == 1);
  CHECK(big_canned.buffers[0].size() == 300 * sizeof(double));
  auto big_frames = wire(big_canned.frames());
  CHECK(cannery::deserialize_object<Eigen::VectorXd>(big_frames).value == big_expected);
  auto span = cannery::deserialize_object<std::span<const double>>(big_frames).value;
  CHECK(addr(span.data()) == addr(big_frames[1].data()));

  // A block of several columns of a row-major matrix, out of band.
  auto rows_block = big.block(10, 1, 200, 3);
  RowMatrixXd rb_expected = rows_block;
  auto rb_frames = wire(cannery::serialize_object(rows_block));
  REQUIRE(rb_frames.size() == 2);
  CHECK(cannery::deserialize_object<RowMatrixXd>(rb_frames).value == rb_expected);
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(rb_frames).value ==
        Eigen::MatrixXd(rb_expected));
}

TEST_CASE("a contiguous large matrix is sent without a copy", "[canning][eigen]") {
  auto m = numbered<Eigen::MatrixXd>(64, 64);
  auto canned = cannery::can(m);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(addr(canned.buffers[0].data()) == addr(m.data()));
  CHECK(canned.buffers[0].size() == 64 * 64 * sizeof(double));

  auto row = numbered<RowMatrixXd>(64, 64);
  auto rcanned = cannery::can(row);
  REQUIRE(rcanned.buffers.size() == 1);
  CHECK(addr(rcanned.buffers[0].data()) == addr(row.data()));

  // A contiguous block (whole columns of a column-major matrix) too.
  auto cols = m.middleCols(10, 20);
  auto bcanned = cannery::can(cols);
  REQUIRE(bcanned.buffers.size() == 1);
  CHECK(addr(bcanned.buffers[0].data()) == addr(m.data() + 10 * 64));

  // An rvalue matrix is moved behind the frame's owner.
  Eigen::MatrixXd moved = m;
  const void* before = moved.data();
  auto mcanned = cannery::can(std::move(moved));
  REQUIRE(mcanned.buffers.size() == 1);
  CHECK(addr(mcanned.buffers[0].data()) == before);
  CHECK_FALSE(mcanned.buffers[0].is_borrowed());
  CHECK(cannery::uncan<Eigen::MatrixXd>(mcanned) == m);
}

TEST_CASE("uncanning to Eigen::Map<const MatrixXd> views the received frame", "[canning][eigen]") {
  auto m = numbered<Eigen::MatrixXd>(50, 40);
  auto frames = wire(cannery::serialize_object(m));
  REQUIRE(frames.size() == 2);
  auto view = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(frames).value;
  CHECK(addr(view.data()) == addr(frames[1].data()));
  CHECK(view.rows() == 50);
  CHECK(view.cols() == 40);
  CHECK(view == m);

  // Row-major data viewed by a row-major Map.
  auto row = numbered<RowMatrixXd>(50, 40);
  auto rframes = wire(cannery::serialize_object(row));
  auto rview = cannery::deserialize_object<Eigen::Map<const RowMatrixXd>>(rframes).value;
  CHECK(addr(rview.data()) == addr(rframes[1].data()));
  CHECK(rview == row);

  // A vector as a Map<const VectorXd>.
  Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(300, 0.0, 1.0);
  auto vframes = wire(cannery::serialize_object(v));
  auto vview = cannery::deserialize_object<Eigen::Map<const Eigen::VectorXd>>(vframes).value;
  CHECK(addr(vview.data()) == addr(vframes[1].data()));
  CHECK(vview == v);
}

TEST_CASE("row-major data cannot be viewed by a column-major Map without a dynamic stride",
          "[canning][eigen]") {
  auto row = numbered<RowMatrixXd>(30, 20);
  auto frames = wire(cannery::serialize_object(row));
  auto e = capture_error(
      [&] { (void)cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(frames); });
  CHECK(e.code() == cannery::errc::shape_mismatch);

  using StridedMap = Eigen::Map<const Eigen::MatrixXd, 0, DynStride>;
  auto view = cannery::deserialize_object<StridedMap>(frames).value;
  CHECK(addr(view.data()) == addr(frames[1].data()));
  CHECK(view == Eigen::MatrixXd(row));

  // The same Map type accepts a strided, inlined block and plain data too.
  auto small = numbered<RowMatrixXd>(4, 3);
  auto sframes = wire(cannery::serialize_object(small));
  CHECK(cannery::deserialize_object<StridedMap>(sframes).value == Eigen::MatrixXd(small));
  auto col = numbered<Eigen::MatrixXd>(30, 20);
  auto cframes = wire(cannery::serialize_object(col));
  CHECK(cannery::deserialize_object<StridedMap>(cframes).value == col);
}

TEST_CASE("a fixed-size target with the wrong shape is a shape_mismatch", "[canning][eigen]") {
  auto m = numbered<Eigen::MatrixXd>(4, 4);
  auto frames = cannery::serialize_object(m);
  auto e = capture_error([&] { (void)cannery::deserialize_object<Eigen::Matrix3d>(frames); });
  CHECK(e.code() == cannery::errc::shape_mismatch);
  auto e2 = capture_error([&] { (void)cannery::deserialize_object<Eigen::Vector4d>(frames); });
  CHECK(e2.code() == cannery::errc::shape_mismatch);
  CHECK(cannery::deserialize_object<Eigen::Matrix4d>(frames).value == m);

  Eigen::VectorXd v = Eigen::VectorXd::Zero(5);
  auto vframes = cannery::serialize_object(v);
  auto e3 = capture_error([&] { (void)cannery::deserialize_object<Eigen::Vector3d>(vframes); });
  CHECK(e3.code() == cannery::errc::shape_mismatch);

  // A 3-D array is not a matrix.
  std::vector<double> cube(8, 1.0);
  cannery::NDArray a3(cannery::dtype_of<double>(), {2, 2, 2},
                      cannery::Buffer::borrow(cube.data(), cube.size() * sizeof(double)));
  auto aframes = cannery::serialize_object(a3);
  auto e4 = capture_error([&] { (void)cannery::deserialize_object<Eigen::MatrixXd>(aframes); });
  CHECK(e4.code() == cannery::errc::shape_mismatch);
}

TEST_CASE("a float matrix read as a double matrix is a type_mismatch", "[canning][eigen]") {
  auto f = numbered<Eigen::MatrixXf>(3, 3);
  auto frames = cannery::serialize_object(f);
  auto e = capture_error([&] { (void)cannery::deserialize_object<Eigen::MatrixXd>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);
  auto e2 = capture_error(
      [&] { (void)cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(frames); });
  CHECK(e2.code() == cannery::errc::type_mismatch);
  auto e3 = capture_error([&] { (void)cannery::deserialize_object<Eigen::MatrixXcf>(frames); });
  CHECK(e3.code() == cannery::errc::type_mismatch);
}

TEST_CASE("sparse matrices round-trip with three buffer frames when large", "[canning][eigen]") {
  auto m = random_sparse(400, 300, 5);
  REQUIRE(m.isCompressed());
  REQUIRE(m.nonZeros() > 300);
  auto canned = cannery::can(m);
  CHECK(canned.tag == "eigen.sparse");
  REQUIRE(canned.buffers.size() == 3);
  // Values, inner indices and outer starts are sent in place.
  CHECK(addr(canned.buffers[0].data()) == addr(m.valuePtr()));
  CHECK(addr(canned.buffers[1].data()) == addr(m.innerIndexPtr()));
  CHECK(addr(canned.buffers[2].data()) == addr(m.outerIndexPtr()));
  auto frames = wire(canned.frames());
  auto back = cannery::deserialize_object<Eigen::SparseMatrix<double>>(frames).value;
  CHECK(same_sparse(back, m));

  // Row-major, and across storage orders.
  Eigen::SparseMatrix<double, Eigen::RowMajor> rm = m;
  auto rframes = wire(cannery::serialize_object(rm));
  CHECK(rframes.size() == 4);
  auto rback =
      cannery::deserialize_object<Eigen::SparseMatrix<double, Eigen::RowMajor>>(rframes).value;
  CHECK(same_sparse(rback, rm));
  CHECK(same_sparse(cannery::deserialize_object<Eigen::SparseMatrix<double>>(rframes).value, m));
  CHECK(same_sparse(
      cannery::deserialize_object<Eigen::SparseMatrix<double, Eigen::RowMajor>>(frames).value, m));

  // A small one is inlined entirely.
  auto small = random_sparse(5, 4, 2);
  auto sframes = wire(cannery::serialize_object(small));
  CHECK(sframes.size() == 1);
  CHECK(
      same_sparse(cannery::deserialize_object<Eigen::SparseMatrix<double>>(sframes).value, small));

  // An empty one.
  Eigen::SparseMatrix<double> empty(7, 3);
  auto eback = round_trip(empty);
  CHECK(eback.rows() == 7);
  CHECK(eback.cols() == 3);
  CHECK(eback.nonZeros() == 0);
}

TEST_CASE("a non-compressed sparse matrix is compressed on the way", "[canning][eigen]") {
  Eigen::SparseMatrix<double> m(500, 400);
  m.reserve(Eigen::VectorXi::Constant(400, 4));
  for (Eigen::Index j = 0; j < 400; ++j) {
    m.insert((j * 3) % 500, j) = static_cast<double>(j) + 0.5;
    m.insert((j * 3 + 1) % 500, j) = -static_cast<double>(j);
  }
  REQUIRE_FALSE(m.isCompressed());
  Eigen::SparseMatrix<double> expected = m;
  expected.makeCompressed();

  auto canned = cannery::can(m);
  CHECK(canned.buffers.size() == 3);
  CHECK_FALSE(m.isCompressed());  // the lvalue is left alone
  auto frames = wire(canned.frames());
  CHECK(same_sparse(cannery::deserialize_object<Eigen::SparseMatrix<double>>(frames).value,
                    expected));

  // An rvalue is compressed in place and moved behind the frames' owner.
  auto moved = cannery::can(std::move(m));
  REQUIRE(moved.buffers.size() == 3);
  CHECK_FALSE(moved.buffers[0].is_borrowed());
  auto mframes = wire(moved.frames());
  CHECK(same_sparse(cannery::deserialize_object<Eigen::SparseMatrix<double>>(mframes).value,
                    expected));
}

TEST_CASE("Eigen::Map<const SparseMatrix> views the received frames", "[canning][eigen]") {
  auto m = random_sparse(400, 300, 4);
  auto frames = wire(cannery::serialize_object(m));
  REQUIRE(frames.size() == 4);
  auto view =
      cannery::deserialize_object<Eigen::Map<const Eigen::SparseMatrix<double>>>(frames).value;
  CHECK(addr(view.valuePtr()) == addr(frames[1].data()));
  CHECK(addr(view.innerIndexPtr()) == addr(frames[2].data()));
  CHECK(addr(view.outerIndexPtr()) == addr(frames[3].data()));
  CHECK(same_sparse(view, m));

  // A view needs the storage order it was sent in.
  Eigen::SparseMatrix<double, Eigen::RowMajor> rm = m;
  auto rframes = wire(cannery::serialize_object(rm));
  auto e = capture_error([&] {
    (void)cannery::deserialize_object<Eigen::Map<const Eigen::SparseMatrix<double>>>(rframes);
  });
  CHECK(e.code() == cannery::errc::type_mismatch);
  auto rview =
      cannery::deserialize_object<Eigen::Map<const Eigen::SparseMatrix<double, Eigen::RowMajor>>>(
          rframes)
          .value;
  CHECK(same_sparse(rview, rm));
}

namespace {

// Frames of an "eigen.sparse" object built by hand from its parts.
std::vector<cannery::Buffer> sparse_frames(std::int64_t rows, std::int64_t cols,
                                           std::string_view order, cannery::NDArray values,
                                           cannery::NDArray inner, cannery::NDArray outer) {
  cannery::Writer w;
  w.tagged(cannery::format::tag_sparse);
  w.array(6);
  w.integer(rows);
  w.integer(cols);
  w.string(order);
  w.write(values);
  w.write(inner);
  w.write(outer);
  auto result = std::move(w).finish();
  std::vector<cannery::Buffer> frames{result.header};
  frames.insert(frames.end(), result.buffers.begin(), result.buffers.end());
  return wire(frames);
}

template <class T>
cannery::NDArray owned(std::vector<T> v) {
  return cannery::NDArray::from_vector(std::move(v));
}

void check_refused(const std::vector<cannery::Buffer>& frames) {
  CHECK_THROWS_AS(cannery::deserialize_object<Eigen::SparseMatrix<double>>(frames), cannery::error);
  CHECK_THROWS_AS(
      cannery::deserialize_object<Eigen::Map<const Eigen::SparseMatrix<double>>>(frames),
      cannery::error);
  // The dynamic reader recognises sparse matrices and refuses the corrupt ones too.
  CHECK_THROWS_AS(cannery::deserialize_object(frames), cannery::error);
}

}  // namespace

TEST_CASE("a corrupt sparse matrix is refused with cannery::error", "[canning][eigen]") {
  // A valid 3 x 3 column-major matrix with values at (0,0), (2,0), (1,2).
  auto good = sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                            owned<int>({0, 2, 2, 3}));
  auto m = cannery::deserialize_object<Eigen::SparseMatrix<double>>(good).value;
  CHECK(m.coeff(0, 0) == 1.0);
  CHECK(m.coeff(2, 0) == 2.0);
  CHECK(m.coeff(1, 2) == 3.0);
  CHECK(m.nonZeros() == 3);

  SECTION("inner index out of range") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 5, 1}),
                                owned<int>({0, 2, 2, 3})));
    auto e = capture_error([&] {
      (void)cannery::deserialize_object<Eigen::SparseMatrix<double>>(sparse_frames(
          3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 5, 1}), owned<int>({0, 2, 2, 3})));
    });
    CHECK(e.code() == cannery::errc::shape_mismatch);
  }
  SECTION("negative inner index") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, -1, 1}),
                                owned<int>({0, 2, 2, 3})));
  }
  SECTION("inner indices not increasing within a column") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({2, 0, 1}),
                                owned<int>({0, 2, 2, 3})));
  }
  SECTION("outer starts that decrease") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                                owned<int>({0, 3, 2, 3})));
  }
  SECTION("outer starts that run past the values") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                                owned<int>({0, 2, 2, 9})));
  }
  SECTION("outer starts that do not start at zero") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                                owned<int>({1, 2, 2, 3})));
  }
  SECTION("too few outer starts") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                                owned<int>({0, 2, 3})));
  }
  SECTION("more inner indices than values") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2}), owned<int>({0, 2, 1}),
                                owned<int>({0, 2, 2, 2})));
  }
  SECTION("indices of a type no reader takes") {
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}),
                                owned<std::uint32_t>({0, 2, 1}),
                                owned<std::uint32_t>({0, 2, 2, 3})));
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}),
                                owned<std::int16_t>({0, 2, 1}), owned<std::int16_t>({0, 2, 2, 3})));
  }
  SECTION("a 64-bit index beyond the receiver's 32-bit index type") {
    // 2^32 + 2 would read as row 2 if it were cut to 32 bits.
    check_refused(sparse_frames(3, 3, "col", owned<double>({1, 2, 3}),
                                owned<std::int64_t>({0, (std::int64_t{1} << 32) + 2, 1}),
                                owned<std::int64_t>({0, 2, 2, 3})));
  }
  SECTION("an unknown storage order") {
    check_refused(sparse_frames(3, 3, "diag", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                                owned<int>({0, 2, 2, 3})));
  }
  SECTION("negative dimensions") {
    check_refused(sparse_frames(-3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                                owned<int>({0, 2, 2, 3})));
  }
  SECTION("negative dimensions of an empty matrix") {
    check_refused(sparse_frames(-1, 0, "col", owned<double>({}), owned<int>({}), owned<int>({0})));
    // Row-major with -1 rows would claim -1 + 1 = 0 outer starts.
    check_refused(sparse_frames(-1, 3, "row", owned<double>({}), owned<int>({}), owned<int>({})));
  }
  SECTION("a large corrupt matrix whose parts travel out of band") {
    auto big = random_sparse(400, 300, 5);
    std::vector<int> inner(big.innerIndexPtr(), big.innerIndexPtr() + big.nonZeros());
    inner[inner.size() / 2] = 400;  // one past the last row
    std::vector<double> values(big.valuePtr(), big.valuePtr() + big.nonZeros());
    std::vector<int> outer(big.outerIndexPtr(), big.outerIndexPtr() + big.outerSize() + 1);
    auto frames = sparse_frames(400, 300, "col", owned(std::move(values)), owned(std::move(inner)),
                                owned(std::move(outer)));
    CHECK(frames.size() == 4);
    check_refused(frames);
  }
}

TEST_CASE("an owning sparse matrix reads scipy's 64-bit indices and misaligned parts",
          "[canning][eigen]") {
  // scipy writes int64 indices for large matrices: an owning receiver takes
  // them when each fits its index type; a Map, which views them in place,
  // needs exactly its own.
  auto wide = sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<std::int64_t>({0, 2, 1}),
                            owned<std::int64_t>({0, 2, 2, 3}));
  auto m = cannery::deserialize_object<Eigen::SparseMatrix<double>>(wide).value;
  CHECK(m.coeff(2, 0) == 2.0);
  CHECK(m.coeff(1, 2) == 3.0);
  CHECK(m.nonZeros() == 3);
  auto rm = cannery::deserialize_object<Eigen::SparseMatrix<double, Eigen::RowMajor>>(wide).value;
  CHECK(rm.coeff(1, 2) == 3.0);
  CHECK(cannery::deserialize_object(wide).value.as<Eigen::SparseMatrix<double>>().coeff(0, 0) ==
        1.0);
  auto e = capture_error([&] {
    (void)cannery::deserialize_object<Eigen::Map<const Eigen::SparseMatrix<double>>>(wide);
  });
  CHECK(e.code() == cannery::errc::type_mismatch);
  // 32-bit indices into a matrix with 64-bit ones.
  auto narrow = sparse_frames(3, 3, "col", owned<double>({1, 2, 3}), owned<int>({0, 2, 1}),
                              owned<int>({0, 2, 2, 3}));
  using Long = Eigen::SparseMatrix<double, Eigen::ColMajor, std::int64_t>;
  CHECK(cannery::deserialize_object<Long>(narrow).value.coeff(1, 2) == 3.0);

  // Parts one byte off alignment, as another writer may send them.
  auto big = random_sparse(40, 30, 3);
  auto frames = wire(cannery::serialize_object(big, cannery::SerializeOptions{0, 64}));
  REQUIRE(frames.size() == 4);
  for (std::size_t f = 1; f < frames.size(); ++f) {
    auto shifted = cannery::Buffer::allocate(frames[f].size() + 1, [&](std::byte* out) {
      std::memcpy(out + 1, frames[f].data(), frames[f].size());
    });
    frames[f] = shifted.slice(1, frames[f].size());
  }
  CHECK(same_sparse(cannery::deserialize_object<Eigen::SparseMatrix<double>>(frames).value, big));
  e = capture_error([&] {
    (void)cannery::deserialize_object<Eigen::Map<const Eigen::SparseMatrix<double>>>(frames);
  });
  CHECK(e.code() == cannery::errc::misaligned);
}

TEST_CASE("an Eigen type is 1-D on the wire when it is a vector at compile time",
          "[canning][eigen]") {
  auto wire_array = [](const auto& x) {
    auto frames = wire(cannery::serialize_object(x));
    return cannery::deserialize_object<cannery::NDArray>(frames).value;
  };
  auto m = numbered<Eigen::MatrixXd>(6, 5);
  CHECK(wire_array(Eigen::Matrix<double, Eigen::Dynamic, 1>::Zero(4).eval()).ndim() == 1);
  CHECK(wire_array(Eigen::RowVectorXd::Zero(4).eval()).ndim() == 1);
  CHECK(wire_array(Eigen::ArrayXd::Zero(4).eval()).ndim() == 1);
  CHECK(wire_array(m.col(1)).ndim() == 1);
  // A row of a column-major matrix is strided: gathered into a contiguous 1-D array.
  auto row = wire_array(m.row(2));
  CHECK(row.shape() == cannery::NDArray::Shape{5});
  CHECK(row.strides() == cannery::NDArray::Strides{8});
  // Dynamic types are 2-D even when a dimension is 1 at run time.
  CHECK(wire_array(Eigen::MatrixXd::Zero(3, 1).eval()).shape() == cannery::NDArray::Shape{3, 1});
  CHECK(wire_array(m.block(1, 1, 3, 1)).shape() == cannery::NDArray::Shape{3, 1});
  CHECK(wire_array(Eigen::ArrayXXd::Zero(1, 3).eval()).shape() == cannery::NDArray::Shape{1, 3});
}

TEST_CASE("a strided Eigen block is gathered in its own storage order", "[canning][eigen]") {
  auto m = numbered<Eigen::MatrixXd>(6, 5);
  auto col = cannery::deserialize_object<cannery::NDArray>(
                 wire(cannery::serialize_object(m.block(1, 1, 3, 2))))
                 .value;
  CHECK(col.strides() == cannery::NDArray::Strides{8, 24});
  auto rm = numbered<RowMatrixXd>(6, 5);
  auto row = cannery::deserialize_object<cannery::NDArray>(
                 wire(cannery::serialize_object(rm.block(1, 1, 3, 2))))
                 .value;
  CHECK(row.strides() == cannery::NDArray::Strides{16, 8});
  // Contiguous data keeps its real strides.
  auto whole = cannery::deserialize_object<cannery::NDArray>(wire(cannery::serialize_object(m)));
  CHECK(whole.value.strides() == cannery::NDArray::Strides{8, 48});
}

TEST_CASE("an Eigen receiver reads a 1-D array as a column, or as a row for row vectors",
          "[canning][eigen]") {
  auto flat = wire(cannery::serialize_object(std::vector<double>{1, 2, 3}));
  auto column = wire(cannery::serialize_object(Eigen::MatrixXd::Constant(3, 1, 2.0).eval()));
  auto row = wire(cannery::serialize_object(Eigen::MatrixXd::Constant(1, 3, 2.0).eval()));
  auto shape_error = [](const std::vector<cannery::Buffer>& frames, auto target) {
    using T = decltype(target);
    return capture_error([&] { (void)cannery::deserialize_object<T>(frames); }).code() ==
           cannery::errc::shape_mismatch;
  };
  CHECK(cannery::deserialize_object<Eigen::VectorXd>(flat).value.size() == 3);
  CHECK(cannery::deserialize_object<Eigen::VectorXd>(column).value.size() == 3);
  CHECK(shape_error(row, Eigen::VectorXd()));
  CHECK(cannery::deserialize_object<Eigen::RowVectorXd>(flat).value.size() == 3);
  CHECK(cannery::deserialize_object<Eigen::RowVectorXd>(row).value.size() == 3);
  CHECK(shape_error(column, Eigen::RowVectorXd()));
  auto m = cannery::deserialize_object<Eigen::MatrixXd>(flat).value;
  CHECK(m.rows() == 3);
  CHECK(m.cols() == 1);
  CHECK(cannery::deserialize_object<Eigen::RowVector3d>(flat).value(2) == 3.0);
}

TEST_CASE("an owning Eigen matrix takes misaligned data, a Map refuses it, neither swaps bytes",
          "[canning][eigen]") {
  Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(300, 0.0, 1.0);
  auto frames = wire(cannery::serialize_object(v));
  REQUIRE(frames.size() == 2);
  auto shifted = cannery::Buffer::allocate(frames[1].size() + 1, [&](std::byte* out) {
    std::memcpy(out + 1, frames[1].data(), frames[1].size());
  });
  frames[1] = shifted.slice(1, frames[1].size());
  CHECK(cannery::deserialize_object<Eigen::VectorXd>(frames).value == v);
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(frames).value == Eigen::MatrixXd(v));
  auto e = capture_error(
      [&] { (void)cannery::deserialize_object<Eigen::Map<const Eigen::VectorXd>>(frames); });
  CHECK(e.code() == cannery::errc::misaligned);

  // Big-endian doubles on a little-endian machine (or the reverse) are not converted.
  const cannery::DType foreign{std::endian::native == std::endian::little ? '>' : '<', 'f', 8};
  auto swapped = wire(cannery::serialize_object(
      cannery::NDArray(foreign, {300}, cannery::Buffer::borrow(v.data(), 300 * sizeof(double)))));
  CHECK(capture_error([&] {
          (void)cannery::deserialize_object<Eigen::VectorXd>(swapped);
        }).code() == cannery::errc::type_mismatch);
}
