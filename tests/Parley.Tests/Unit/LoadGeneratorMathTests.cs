using System.Diagnostics;
using Parley.LoadGenerator.Relay;

namespace Parley.Tests.Unit;

/// <summary>The arithmetic behind parley-bench's latency figures (issue #8), which a real run can only show as "above 0".</summary>
public sealed class LoadGeneratorMathTests
{
    [Fact]
    public void Percentiles_are_nearest_rank_over_every_pair()
    {
        // 1..100 µs spread over two pairs: nearest rank gives p50 = 50, p99 = 99, p99.9 = max = 100.
        var micro = Stopwatch.Frequency / 1_000_000.0;
        var odd = Enumerable.Range(1, 100).Where(i => i % 2 == 1).Select(i => (long)Math.Round(i * micro)).ToList();
        var even = Enumerable.Range(1, 100).Where(i => i % 2 == 0).Select(i => (long)Math.Round(i * micro)).ToList();

        var (p50, p99, p999, max) = LatencySample.Percentiles([odd, even]);

        Assert.Equal(50, p50, 0.01);
        Assert.Equal(99, p99, 0.01);
        Assert.Equal(100, p999, 0.01);
        Assert.Equal(100, max, 0.01);
    }

    [Fact]
    public void A_body_has_the_asked_size_and_gives_back_its_timestamp()
    {
        var body = RelayBody.Create(64, 0x0123_4567_89ab_cdef);

        Assert.Equal(64, body.Length);
        Assert.Equal(0x0123_4567_89ab_cdef, RelayBody.ReadTimestamp(body));
        Assert.Null(RelayBody.ReadTimestamp("hello, not a benchmark message"));
    }
}
