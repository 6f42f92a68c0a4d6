// SPDX-License-Identifier: Apache-2.0
#include <eci/latency_histogram.hpp>

#include <catch2/catch.hpp>

using eci::LatencyHistogram;
using us = std::chrono::microseconds;

TEST_CASE("latency histogram: fixed doubling buckets from 64 us", "[histogram]") {
    CHECK(LatencyHistogram::upper_bound(0) == us(64));
    CHECK(LatencyHistogram::upper_bound(1) == us(128));
    CHECK(LatencyHistogram::upper_bound(10) == us(65536));
    CHECK(LatencyHistogram::upper_bound(LatencyHistogram::bucket_count - 1) == us::max());
    CHECK(LatencyHistogram::bucket_of(us(-5)) == 0);
    CHECK(LatencyHistogram::bucket_of(us(0)) == 0);
    CHECK(LatencyHistogram::bucket_of(us(64)) == 0);
    CHECK(LatencyHistogram::bucket_of(us(65)) == 1);
    CHECK(LatencyHistogram::bucket_of(us(128)) == 1);
    CHECK(LatencyHistogram::bucket_of(us(129)) == 2);
    // Each bound is inclusive: a value on a bound falls in that bucket, one above in the next.
    for (std::size_t i = 0; i + 1 < LatencyHistogram::bucket_count; ++i) {
        INFO(i);
        CHECK(LatencyHistogram::bucket_of(LatencyHistogram::upper_bound(i)) == i);
        CHECK(LatencyHistogram::bucket_of(LatencyHistogram::upper_bound(i) + us(1)) == i + 1);
    }
    CHECK(LatencyHistogram::bucket_of(std::chrono::hours(1)) == LatencyHistogram::bucket_count - 1);
}

TEST_CASE("latency histogram: count, sum, max, mean, quantiles and merge", "[histogram]") {
    LatencyHistogram histogram;
    CHECK(histogram.quantile(0.5) == us(0));
    CHECK(histogram.mean() == us(0));
    // 90 fast calls (~1 ms) and 10 slow ones (~100 ms).
    for (int i = 0; i < 90; ++i)
        histogram.record(us(1000));
    for (int i = 0; i < 10; ++i)
        histogram.record(us(100000));
    CHECK(histogram.count == 100);
    CHECK(histogram.sum == us(90 * 1000 + 10 * 100000));
    CHECK(histogram.max == us(100000));
    CHECK(histogram.mean() == us(10900));
    CHECK(histogram.buckets[LatencyHistogram::bucket_of(us(1000))] == 90);
    CHECK(histogram.buckets[LatencyHistogram::bucket_of(us(100000))] == 10);
    // An upper estimate: the bucket's bound (1024 us for 1000 us), capped at the max.
    CHECK(histogram.quantile(0.5) == us(1024));
    CHECK(histogram.quantile(0.9) == us(1024));
    CHECK(histogram.quantile(0.91) == us(100000));
    CHECK(histogram.quantile(1.0) == us(100000));
    CHECK(histogram.quantile(0.0) == us(1024));

    LatencyHistogram other;
    other.record(us(300000));
    histogram.merge(other);
    CHECK(histogram.count == 101);
    CHECK(histogram.max == us(300000));
    CHECK(histogram.quantile(1.0) == us(300000));
}
