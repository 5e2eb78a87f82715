using System.Net;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Server;
using Parley.Server.Connections;

namespace Parley.Tests.Unit;

/// <summary>Issue #9: the per-connection token bucket and the size estimate behind the pending-bytes limit.</summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public void The_bucket_allows_its_burst_at_once_then_refills_at_the_rate_and_never_beyond_the_burst()
    {
        var rate = new TokenBucket(perSecond: 10, burst: 5, now: 1_000);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.True(rate.TryTake(1_000)));
        Assert.False(rate.TryTake(1_000));
        Assert.False(rate.TryTake(1_050)); // half a token
        Assert.True(rate.TryTake(1_100)); // one token after 100 ms at 10 a second
        Assert.False(rate.TryTake(1_100));

        // An hour of silence refills only the burst.
        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => rate.TryTake(3_601_100)));
    }

    [Fact]
    public void A_clock_that_goes_back_adds_nothing()
    {
        var rate = new TokenBucket(perSecond: 1000, burst: 1, now: 5_000);
        Assert.True(rate.TryTake(5_000));
        Assert.False(rate.TryTake(4_000));
    }

    [Fact]
    public void One_address_holds_at_most_its_share_of_the_slots_and_all_addresses_together_at_most_the_total()
    {
        var gate = new ConnectionGate(maxTotal: 4, maxPerAddress: 2);
        var a = IPAddress.Parse("127.0.0.2");
        Assert.True(gate.TryEnter(a));
        Assert.True(gate.TryEnter(a));
        Assert.False(gate.TryEnter(a));

        // An IPv6 host counts by its /64, so rotating the low bits gains nothing.
        Assert.True(gate.TryEnter(IPAddress.Parse("2001:db8::1")));
        Assert.True(gate.TryEnter(IPAddress.Parse("2001:db8::2")));
        Assert.False(gate.TryEnter(IPAddress.Parse("2001:db8::3")));

        // The total is reached: a new address waits for a slot, which an exit frees.
        Assert.False(gate.TryEnter(IPAddress.Parse("127.0.0.3")));
        gate.Exit(a);
        Assert.True(gate.TryEnter(IPAddress.Parse("127.0.0.3")));
        Assert.False(gate.TryEnter(a));
        gate.Exit(IPAddress.Parse("2001:db8::1"));
        Assert.True(gate.TryEnter(a));
    }

    public static TheoryData<ParleyMessage> Messages() =>
    [
        new Chat("s-1234", "e2e1:" + new string('A', 4000), "alice", 1_795_000_000_000),
        new Chat("s-1234", "hi", "alice", 1_795_000_000_000),
        new Dm("bob", "e2e1:" + new string('B', 3000), "17", "alice", 42, 1_795_000_000_000),
        new HistoryResp("alice", "e2e1:" + new string('C', 2000), "s-1234", 1_795_000_000_000, "bob"),
        new Say("#lobby", new string('d', 4096), "alice", 1_795_000_000_000),
        new Say("#lobby", new string('<', 4096), "alice", 1_795_000_000_000), // escaped as \u003C: six bytes each
        new Say("#lobby", string.Concat(Enumerable.Repeat("漢字+😀", 300)), "alice", 1_795_000_000_000),
        new Dm("bob", "e2e1:" + new string('+', 1000), "1", "alice", 42, 1_795_000_000_000),
        new Notice(new string('n', 500), 1_795_000_000_000),
        new ListResp([.. Enumerable.Range(0, 500).Select(i => new DirectoryEntry(new string('u', 28) + i.ToString("D4"), i % 2 == 0))], true),
        new RoomList([.. Enumerable.Range(0, 100).Select(i => new RoomInfo("#" + new string('r', 28) + i.ToString("D3"), 100_000, true))], true),
        new Connected("alice", 900, 30, 4096, 600_000, 8, [.. Enumerable.Range(0, 100).Select(i => new UnreadCount(new string('s', 29) + i.ToString("D3"), 1000))]),
        new Error(ErrorCodes.RateLimited, new string('e', 300)),
        new ChatStarted("s-1234", new string('p', 32)),
        new Pong(),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void The_estimate_covers_the_sealed_frame_without_overstating_it_by_more_than_half(ParleyMessage message)
    {
        // Not below: a client's limit must not let more through than it says. Not far above: a reading client must
        // not be cut off for bytes it does not have waiting (lists use per-entry bounds, hence the half).
        var framed = Frame.HeaderBytes + MessageCodec.ToBytes(message).Length + RecordCipher.TagBytes;
        var estimate = OutboundSize.Estimate(message);
        Assert.InRange(estimate, framed, framed + Math.Max(2 * OutboundSize.Overhead, framed / 2));
    }
}
