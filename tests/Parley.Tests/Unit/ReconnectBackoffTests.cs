using Parley.Cli.ChatClient;

namespace Parley.Tests.Unit;

/// <summary>
/// <see cref="ReconnectBackoff"/>, the waits of <c>parley chat</c> between tries to log on again (docs/PROTOCOL.md
/// §8.2): the first delay, doubled after each failure up to the cap, each moved by up to ±20 % so that clients a
/// restarted server dropped together do not return together, and back to the first delay after a success.
/// </summary>
public sealed class ReconnectBackoffTests
{
    private static readonly ReconnectPolicy Defaults = new(ReconnectPolicy.DefaultFirstDelay, ReconnectPolicy.DefaultMaxDelay);

    [Fact]
    public void Without_jitter_the_waits_double_from_the_first_delay_up_to_the_cap()
    {
        var backoff = new ReconnectBackoff(Defaults, random: () => 0.5); // the middle of the jitter range: no change

        var waits = Enumerable.Range(0, 8).Select(_ => backoff.Next().TotalSeconds).ToArray();

        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], waits);
    }

    [Fact]
    public void Jitter_moves_each_wait_by_at_most_a_fifth_either_way()
    {
        var low = new ReconnectBackoff(Defaults, random: () => 0);
        var high = new ReconnectBackoff(Defaults, random: () => Math.BitDecrement(1.0));

        Assert.Equal([0.8, 1.6, 3.2, 6.4, 12.8, 24, 24], Enumerable.Range(0, 7).Select(_ => Math.Round(low.Next().TotalSeconds, 6)));
        Assert.Equal([1.2, 2.4, 4.8, 9.6, 19.2, 36, 36], Enumerable.Range(0, 7).Select(_ => Math.Round(high.Next().TotalSeconds, 6)));
    }

    [Fact]
    public void With_real_randomness_the_waits_stay_in_bounds_and_differ()
    {
        var waits = Enumerable.Range(0, 200).Select(_ => new ReconnectBackoff(Defaults).Next()).ToList();

        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1.2)));
        Assert.True(waits.Distinct().Count() > 100, "the first waits of many clients should be spread out");
    }

    [Fact]
    public void A_success_starts_the_next_run_of_tries_from_the_first_delay()
    {
        var backoff = new ReconnectBackoff(new ReconnectPolicy(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)), random: () => 0.5);
        Assert.Equal([0.2, 0.4, 0.8, 1, 1], Enumerable.Range(0, 5).Select(_ => backoff.Next().TotalSeconds));

        backoff.Reset();

        Assert.Equal([0.2, 0.4], Enumerable.Range(0, 2).Select(_ => backoff.Next().TotalSeconds));
    }
}
