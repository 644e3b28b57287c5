#pragma once
// bench_messaging's compressed_link/<codec>/<data> benchmarks
// (compressed_link.cpp says what they measure).

namespace cannery::bench {

void register_compressed_link();

}  // namespace cannery::bench
