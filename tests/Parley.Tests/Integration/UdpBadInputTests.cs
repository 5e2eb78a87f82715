using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

public sealed class UdpBadInputTests
{
    [Fact]
    public async Task Malformed_and_unexpected_datagrams_get_a_clear_ERROR()
    {
        await using var server = await InProcessServer.StartAsync();
        using var socket = RawWire.UdpSocket();
        var udp = server.Server.UdpEndPoint;
        const string Padding = "\"padding\":\"a realistic request is at least this long\"";
        Assert.Equal(ErrorCodes.BadMessage, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, udp, RawWire.Json("{" + Padding + ",\"msgtype\":"))).Code);
        Assert.Equal(ErrorCodes.UnknownMsgType, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, udp, RawWire.Json("{\"msgtype\":\"HI\"," + Padding + "}"))).Code);
        Assert.Equal(ErrorCodes.NotAllowed, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, udp, MessageCodec.ToBytes(new ChatRequest("somebody-with-a-long-name")))).Code);
        Assert.Equal(ErrorCodes.InvalidClientId, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, udp, MessageCodec.ToBytes(new Hello("bad id", "n0nce-n0nce-n0nce-n0nce", "k")))).Code);
        Assert.Equal(ErrorCodes.ChallengeInvalid, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, udp, MessageCodec.ToBytes(new Response("alice", "never-issued", "AAAA")))).Code);
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_tiny_datagram_is_not_answered_with_a_larger_one()
    {
        // A forged source address would turn every answer into traffic aimed at a victim: answers stay within 3×.
        await using var server = await InProcessServer.StartAsync();
        using var socket = RawWire.UdpSocket();
        Assert.Null(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, "x"u8.ToArray(), TimeSpan.FromMilliseconds(500)));
        Assert.Null(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, RawWire.Json("{}"), TimeSpan.FromMilliseconds(500)));
        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("amplification limit", StringComparison.Ordinal));
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task An_oversized_datagram_is_dropped_unanswered()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxDatagramBytes = 800 });
        using var socket = RawWire.UdpSocket();
        var big = MessageCodec.ToBytes(new Hello("alice", new string('n', 40), new string('k', 900)));
        Assert.Null(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, big, TimeSpan.FromMilliseconds(500)));
        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("oversized datagram", StringComparison.Ordinal));
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_flood_of_junk_datagrams_is_answered_in_full_but_logged_only_in_part_and_the_gap_is_said()
    {
        // A frozen clock: the log's allowance does not refill while the flood runs, however slow the machine.
        var clock = new ManualTimeProvider();
        await using var server = await InProcessServer.StartAsync(o => o with { RefusalLogBurst = 25, RefusalLogPerSecond = 2 }, clock);
        using var socket = RawWire.UdpSocket("127.0.0.3");
        var junk = RawWire.Json($$"""{"msgtype":"NOPE","padding":"{{new string('p', 120)}}"}""");
        for (var i = 0; i < 300; i++)
        {
            var reply = await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, junk);
            Assert.Equal(ErrorCodes.UnknownMsgType, Assert.IsType<Error>(reply).Code);
        }

        int Rejections() => server.Logs.Entries.Count(e => e.Text.StartsWith("Rejected datagram from 127.0.0.3", StringComparison.Ordinal));
        Assert.Equal(25, Rejections());

        // Half a second later one more line is allowed (2 a second), and it is preceded by the count of those left out.
        clock.Advance(TimeSpan.FromSeconds(0.5));
        Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, junk));
        Assert.Equal(26, Rejections());
        Assert.Contains(server.Logs.Entries, e => e.Text == "Left out 275 log lines about refused datagrams (a flood?); the metrics count them all");
    }

    [Fact]
    public async Task A_HELLO_flood_from_one_address_is_rate_limited_and_others_are_still_served()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxPendingHandshakesPerAddress = 4 });
        using var flooder = RawWire.UdpSocket("127.0.0.2");
        var replies = new List<ParleyMessage?>();
        for (var i = 0; i < 6; i++)
        {
            using var scram = new ScramClient("alice", "x");
            replies.Add(await RawWire.UdpExchangeAsync(flooder, server.Server.UdpEndPoint, MessageCodec.ToBytes(scram.Hello)));
        }

        Assert.Equal(4, replies.Count(r => r is Challenge));
        Assert.All(replies.Skip(4), r => Assert.Equal(ErrorCodes.RateLimited, Assert.IsType<Error>(r).Code));
        await Healthy.AssertServesAsync(server); // from 127.0.0.1
    }

    [Fact]
    public async Task The_server_wide_handshake_table_is_bounded()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxPendingHandshakes = 3 });
        using var socket = RawWire.UdpSocket("127.0.0.3");
        for (var i = 0; i < 3; i++)
        {
            using var scram = new ScramClient("alice", "x");
            Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(scram.Hello)));
        }

        using var one = new ScramClient("bob", "x");
        Assert.Equal(ErrorCodes.ServerBusy, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(one.Hello))).Code);
    }
}
