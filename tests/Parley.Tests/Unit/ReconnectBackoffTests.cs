using Parley.Cli.ChatClient;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

/// <summary>
/// <see cref="ReconnectBackoff"/>, the waits of <c>parley chat</c> between tries to log on again (docs/PROTOCOL.md
/// §8.2): the first delay, doubled after each failure up to the cap, each moved by up to ±20 % so that clients a
/// restarted server dropped together do not return together, and back to the first delay only once a link has stayed
/// up for a while, so a link cut right after each log-on does not bring the client back every second.
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
    public void A_link_that_drops_soon_after_a_reconnect_goes_on_doubling()
    {
        // A crash-looping server, or a cut-off right after log-on: each log-on succeeds and the link dies at once.
        var time = new ManualTimeProvider();
        var backoff = new ReconnectBackoff(Defaults, random: () => 0.5, time);
        var waits = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            waits.Add(backoff.Next().TotalSeconds);
            backoff.LinkUp();
            time.Advance(TimeSpan.FromSeconds(59));
        }

        Assert.Equal([1, 2, 4, 8, 16, 30, 30], waits);
    }

    [Fact]
    public void A_link_that_stayed_up_a_minute_starts_the_next_run_from_the_first_delay()
    {
        var time = new ManualTimeProvider();
        var backoff = new ReconnectBackoff(Defaults, random: () => 0.5, time);
        Assert.Equal([1, 2, 4], Enumerable.Range(0, 3).Select(_ => backoff.Next().TotalSeconds));

        backoff.LinkUp();
        time.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal([1, 2], Enumerable.Range(0, 2).Select(_ => backoff.Next().TotalSeconds));
    }

    [Fact]
    public void With_a_cap_above_a_minute_a_link_must_stay_up_as_long_as_the_cap()
    {
        var policy = new ReconnectPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.FromMinutes(5), policy.StableAfter);
        Assert.Equal(TimeSpan.FromMinutes(1), Defaults.StableAfter);

        var time = new ManualTimeProvider();
        var backoff = new ReconnectBackoff(policy, random: () => 0.5, time);
        Assert.Equal([1, 2], Enumerable.Range(0, 2).Select(_ => backoff.Next().TotalSeconds));
        backoff.LinkUp();
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(4, backoff.Next().TotalSeconds);
        backoff.LinkUp();
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, backoff.Next().TotalSeconds);
    }

    [Fact]
    public void A_wait_the_server_stated_is_never_cut_short_and_a_shorter_one_changes_nothing()
    {
        var backoff = new ReconnectBackoff(Defaults, random: () => Math.BitDecrement(1.0));

        Assert.Equal(TimeSpan.FromSeconds(58), backoff.Next(atLeast: TimeSpan.FromSeconds(58)));
        Assert.Equal(2.4, Math.Round(backoff.Next(atLeast: TimeSpan.FromSeconds(1)).TotalSeconds, 6));
        Assert.Equal(4.8, Math.Round(backoff.Next(atLeast: null).TotalSeconds, 6));
    }

    [Fact]
    public void The_users_own_log_on_starts_the_next_run_from_the_first_delay()
    {
        var backoff = new ReconnectBackoff(new ReconnectPolicy(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)), random: () => 0.5);
        Assert.Equal([0.2, 0.4, 0.8, 1, 1], Enumerable.Range(0, 5).Select(_ => backoff.Next().TotalSeconds));

        backoff.Reset();

        Assert.Equal([0.2, 0.4], Enumerable.Range(0, 2).Select(_ => backoff.Next().TotalSeconds));
    }
}
