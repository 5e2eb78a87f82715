using System.Net;
using Parley.Server.Authentication;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class AddressRateLimiterTests
{
    private static readonly IPAddress Host = IPAddress.Parse("192.0.2.1");
    private readonly ManualTimeProvider _time = new();

    // 3 tokens, one back every minute.
    private AddressRateLimiter Limiter(int maxAddresses = 100) => new(3, TimeSpan.FromMinutes(3), maxAddresses, _time);

    [Fact]
    public void A_burst_of_capacity_succeeds_and_the_next_is_told_how_long_to_wait()
    {
        var limiter = Limiter();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire(Host, out var none));
            Assert.Equal(TimeSpan.Zero, none);
        }

        Assert.False(limiter.TryAcquire(Host, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(1), retryAfter);
    }

    [Fact]
    public void Retrying_after_the_stated_wait_succeeds_once()
    {
        var limiter = Limiter();
        Spend(limiter, Host, 3);
        Assert.False(limiter.TryAcquire(Host, out var retryAfter));

        _time.Advance(retryAfter);
        Assert.True(limiter.TryAcquire(Host, out _));
        Assert.False(limiter.TryAcquire(Host, out var again));
        Assert.True(again > TimeSpan.Zero);
    }

    [Fact]
    public void A_partly_refilled_bucket_still_refuses_and_says_the_wait_is_shorter()
    {
        var limiter = Limiter();
        Spend(limiter, Host, 3);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(limiter.TryAcquire(Host, out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero && retryAfter < TimeSpan.FromMinutes(1), $"retryAfter = {retryAfter}");
    }

    [Fact]
    public void A_full_period_refills_the_burst_but_not_beyond_capacity()
    {
        var limiter = Limiter();
        Spend(limiter, Host, 3);
        _time.Advance(TimeSpan.FromHours(5));
        Spend(limiter, Host, 3);
        Assert.False(limiter.TryAcquire(Host, out _));
    }

    [Fact]
    public void Ipv6_addresses_in_one_slash_64_share_a_bucket()
    {
        var limiter = Limiter();
        Spend(limiter, IPAddress.Parse("2001:db8:1:2::1"), 2);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff"), out _));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2:abcd::9"), out _));
    }

    [Fact]
    public void Ipv6_addresses_in_different_slash_64s_have_their_own_buckets()
    {
        var limiter = Limiter();
        Spend(limiter, IPAddress.Parse("2001:db8:1:2::1"), 3);
        Assert.False(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::1"), out _));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:3::1"), out _));
    }

    [Fact]
    public void An_ipv4_mapped_ipv6_address_is_the_same_host_as_the_ipv4_address()
    {
        var limiter = Limiter();
        Spend(limiter, Host, 2);
        Assert.True(limiter.TryAcquire(Host.MapToIPv6(), out _));
        Assert.False(limiter.TryAcquire(Host, out _));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("::ffff:192.0.2.1"), out _));
    }

    [Fact]
    public void Different_ipv4_addresses_have_their_own_buckets()
    {
        var limiter = Limiter();
        Spend(limiter, Host, 3);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.2"), out _));
    }

    [Fact]
    public void When_the_table_is_full_a_new_address_is_refused_but_known_ones_go_on()
    {
        var limiter = Limiter(maxAddresses: 2);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.1"), out _));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.2"), out _));

        Assert.False(limiter.TryAcquire(IPAddress.Parse("192.0.2.3"), out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.1"), out _));
    }

    [Fact]
    public void Removing_idle_addresses_makes_room_for_new_ones()
    {
        var limiter = Limiter(maxAddresses: 2);
        Spend(limiter, IPAddress.Parse("192.0.2.1"), 1);
        Spend(limiter, IPAddress.Parse("192.0.2.2"), 1);
        Assert.False(limiter.TryAcquire(IPAddress.Parse("192.0.2.3"), out _));

        _time.Advance(TimeSpan.FromMinutes(1)); // both buckets full again
        limiter.RemoveIdle();
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.3"), out _));
    }

    [Fact]
    public void Removing_idle_addresses_keeps_a_spent_bucket_so_its_limit_is_not_reset()
    {
        var limiter = Limiter();
        Spend(limiter, Host, 3);
        _time.Advance(TimeSpan.FromSeconds(30));
        limiter.RemoveIdle();
        Assert.False(limiter.TryAcquire(Host, out _));
    }

    private static void Spend(AddressRateLimiter limiter, IPAddress address, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(limiter.TryAcquire(address, out _), $"token {i + 1} of {count} for {address}");
        }
    }
}
