using Parley.Protocol;

namespace Parley.Tests.Unit;

public sealed class DurationsTests
{
    [Theory]
    [InlineData(0, "0 s")]
    [InlineData(-5, "0 s")]
    [InlineData(0.2, "1 s")]
    [InlineData(59, "59 s")]
    [InlineData(59.1, "1 min")]
    [InlineData(60, "1 min")]
    [InlineData(90, "1 min 30 s")]
    [InlineData(90.5, "1 min 31 s")]
    [InlineData(3599, "59 min 59 s")]
    [InlineData(3600, "1 h")]
    [InlineData(3601, "1 h 1 min")]
    [InlineData(3660, "1 h 1 min")]
    [InlineData(5400, "1 h 30 min")]
    [InlineData(7200, "2 h")]
    public void Waits_are_shown_rounded_up_so_a_retry_at_the_stated_time_works(double seconds, string shown) =>
        Assert.Equal(shown, Durations.Format(TimeSpan.FromSeconds(seconds)));

    // A wait in the last minute before a whole hour reads as that hour, not "1 h 60 min".
    [Theory]
    [InlineData(7170, "2 h")]   // 1 h 59 min 30 s
    [InlineData(3599 + 3600, "2 h")]
    public void A_wait_just_under_a_whole_hour_rounds_up_to_the_hour(double seconds, string shown) =>
        Assert.Equal(shown, Durations.Format(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-3, 1)]
    [InlineData(0.1, 1)]
    [InlineData(1, 1)]
    [InlineData(1.5, 2)]
    [InlineData(90, 90)]
    [InlineData(3600.01, 3601)]
    public void Whole_seconds_round_up_and_are_at_least_one(double seconds, int whole) =>
        Assert.Equal(whole, Durations.WholeSeconds(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Whole_seconds_of_a_huge_wait_do_not_overflow() => Assert.Equal(int.MaxValue, Durations.WholeSeconds(TimeSpan.MaxValue));

    [Theory]
    [InlineData(1)]
    [InlineData(58)]
    [InlineData(60)]
    [InlineData(90)]
    [InlineData(3599)]
    [InlineData(3600)]
    [InlineData(5400)]
    public void A_wait_stated_in_a_refusal_reads_back_as_at_least_that_long(double seconds)
    {
        // A client retrying by itself (parley chat, PROTOCOL.md §8.2) reads RATE_LIMITED's wait from its text.
        var text = $"Too many log-on attempts from your address; try again in {Durations.Format(TimeSpan.FromSeconds(seconds))}.";

        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.ParseRetryAfter(text));
    }

    [Theory]
    [InlineData("Too many log-ons in progress from your address; try again shortly.")]
    [InlineData("The server is busy.")]
    [InlineData("try again in 0 s.")]
    public void A_text_without_a_wait_gives_none(string text) => Assert.Null(Durations.ParseRetryAfter(text));
}
