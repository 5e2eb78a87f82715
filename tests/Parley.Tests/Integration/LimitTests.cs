using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;
using static Parley.Tests.Support.MessagingSteps;

namespace Parley.Tests.Integration;

/// <summary>
/// Issue #9's connection limits, each against a live server: the message rate (a token bucket), the bytes pending for a
/// client that stops reading, the connections still owing CONNECT (slowloris), and the connection cap. Each test also
/// proves that everyone else is still served.
/// </summary>
public sealed class LimitTests
{
    [Fact]
    public async Task A_flood_past_the_burst_gets_RATE_LIMITED_and_a_close_while_others_are_served()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MessagesPerSecond = 5, MessageBurst = 20 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        server.AddUser("flooder", "pw");
        await using var flooder = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "flooder", "pw"));

        // 200 PINGs in one write: the first 20 (the burst) and the few a second refills are answered, then the flood ends it.
        await flooder.SendAsync([.. Enumerable.Range(0, 200).SelectMany(_ => RawWire.SealedFrame(flooder.Sealer!, new Ping()))]);
        var received = await flooder.ExpectClosedAsync();

        var refusal = Assert.IsType<Error>(received[^1]);
        Assert.Equal(ErrorCodes.RateLimited, refusal.Code);
        Assert.Equal("You sent more than 5 messages a second (bursts of 20 allowed); you are disconnected.", refusal.Text);
        var pongs = received.Count - 1;
        Assert.All(received.SkipLast(1), m => Assert.IsType<Pong>(m));
        Assert.InRange(pongs, 20, 199);
        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("flooder sent more than 5 messages a second; disconnected", StringComparison.Ordinal));

        await alice.ExpectNothingPendingAsync();
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_burst_as_large_as_the_bucket_is_served_in_full()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MessagesPerSecond = 1, MessageBurst = 50 });
        server.AddUser("alice", "pw");
        await using var alice = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "pw"));

        // 49 PINGs and a request: exactly the burst, all answered, and the link stays open.
        await alice.SendAsync([
            .. Enumerable.Range(0, 49).SelectMany(_ => RawWire.SealedFrame(alice.Sealer!, new Ping())),
            .. RawWire.SealedFrame(alice.Sealer!, new HistoryReq("nobody-at-all")),
        ]);
        for (var i = 0; i < 49; i++)
        {
            Assert.IsType<Pong>(await alice.ReadAsync());
        }

        Assert.Equal("nobody-at-all", Assert.IsType<HistoryEnd>(await alice.ReadAsync()).ClientId);
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains("messages a second", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_room_member_that_stops_reading_is_cut_off_by_its_pending_bytes_while_the_room_goes_on()
    {
        const int Limit = 256 * 1024;
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            MetricsPort = 0,
            MaxPendingOutboundBytes = Limit,
            MessagesPerSecond = 100_000,
            MessageBurst = 100_000,
            SlowConsumerTimeout = TimeSpan.FromSeconds(60), // far off: only the byte limit can cut carol off in time
        });
        await using var alice = await server.AddAndLogOnAsync("alice");
        server.AddUser("bob", "pw");
        await using var bob = await server.LogOnAsync("bob", "pw");
        server.AddUser("carol", "pw");
        await using var carol = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "carol", "pw"));

        await JoinAsync(alice, "#flood");
        await carol.SendAsync(RawWire.SealedFrame(carol.Sealer!, new Join("#flood"))); // carol reads nothing from now on
        Assert.Equal("carol", (await alice.ExpectAsync<RoomNotice>()).ClientId);
        await JoinAsync(bob, "#flood");
        Assert.Equal("bob", (await alice.ExpectAsync<RoomNotice>()).ClientId);

        // Alice talks, a window of 16 lines ahead of bob, until the server drops carol. Bob, who reads, gets every line
        // in order; a SAY never waits for a member, so carol's silence holds up neither of them.
        var body = new string('x', 4000);
        int sent = 0, next = 0;
        RoomNotice? gone = null;
        while (gone is null)
        {
            Assert.True(sent < 20_000, "carol was never disconnected");
            for (var i = 0; i < 16; i++, sent++)
            {
                await alice.SendAsync(new Say("#flood", $"{sent:D6}{body}"));
            }

            while (next < sent)
            {
                switch (await bob.Events.ReadAsync(new CancellationTokenSource(InProcessServer.Timeout).Token))
                {
                    case Say say:
                        Assert.Equal($"{next:D6}", say.Message[..6]);
                        next++;
                        break;
                    case RoomNotice notice:
                        Assert.Equal(("carol", RoomEvents.Disconnected), (notice.ClientId, notice.Event));
                        break;
                    case var other:
                        Assert.Fail($"unexpected {other}");
                        break;
                }
            }

            if (alice.Events.TryRead(out var message))
            {
                gone = Assert.IsType<RoomNotice>(message);
            }
        }

        Assert.Equal(("carol", RoomEvents.Disconnected), (gone.ClientId, gone.Event));
        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("carol has", StringComparison.Ordinal)
            && e.Text.Contains("bytes waiting to be sent; disconnected as too slow", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains("has not drained its queue", StringComparison.Ordinal));

        // Carol's connection has ended, its send loop and queue with it (the line is logged once both loops are
        // done), and once bob has drained his, nothing is pending for anyone.
        using var deadline = new CancellationTokenSource(InProcessServer.Timeout);
        while (!server.Logs.Entries.Any(e => e.Text.StartsWith("carol disconnected (slow consumer", StringComparison.Ordinal)))
        {
            await Task.Delay(50, deadline.Token);
        }

        using var http = new HttpClient { Timeout = InProcessServer.Timeout };
        Dictionary<string, double> metrics;
        while ((metrics = await MetricsTests.ScrapeAsync(http, server))["parley_outbound_pending_bytes"] != 0)
        {
            await Task.Delay(50, deadline.Token);
        }

        Assert.Equal(2, metrics["parley_connections_open"]);

        // Carol's link is closed: reading now, she finds what the socket had taken before the cut, then the end.
        var leftover = await carol.ExpectClosedAsync();
        Assert.True(leftover.Count < sent, $"carol got all {sent} lines");
    }

    [Fact]
    public async Task A_burst_of_the_largest_escaped_room_lines_within_the_defaults_does_not_cut_off_a_member_who_reads()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await JoinAsync(bob, "#busy");
        await JoinAsync(alice, "#busy");
        Assert.Equal("alice", (await bob.ExpectAsync<RoomNotice>()).ClientId);

        // A whole burst at once, every character one the JSON encoder escapes (six bytes each on the wire).
        var line = new string('<', server.Options.MaxMessageBytes);
        for (var i = 0; i < server.Options.MessageBurst - 1; i++)
        {
            await alice.SendAsync(new Say("#busy", line));
        }

        for (var i = 0; i < server.Options.MessageBurst - 1; i++)
        {
            Assert.Equal(line, (await bob.ExpectAsync<Say>()).Message);
        }

        await bob.ExpectNothingPendingAsync();
        await alice.ExpectNothingPendingAsync();
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains("too slow", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fast_sender_of_direct_and_chat_messages_waits_for_a_recipient_who_reads_instead_of_cutting_it_off()
    {
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            MaxPendingOutboundBytes = 512 * 1024, // a commit of 256 of these DMs would be 6 MiB
            MessagesPerSecond = 100_000,
            MessageBurst = 100_000,
        });
        await using var alice = await server.AddAndLogOnAsync("alice");
        server.AddUser("bob", "pw");
        await using var bob = await ParleyConnection.LogOnAsync(server.ClientOptions with { EventQueueCapacity = 100_000 }, "bob", "pw");

        const int Count = 300;
        var text = new string('<', server.Options.MaxMessageBytes);
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
            {
                await alice.SendAsync(new Dm("bob", text, $"{i}"));
            }
        });

        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(text, (await bob.ExpectAsync<Dm>()).Message);
        }

        await sending;
        for (var i = 0; i < Count; i++)
        {
            Assert.Equal($"{i}", (await alice.ExpectAsync<DmSent>()).Id);
        }

        var session = await alice.StartChatWithAsync(bob, "bob");
        for (var i = 0; i < Count; i++)
        {
            await alice.SendAsync(new Chat(session, text));
        }

        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(text, (await bob.ExpectAsync<Chat>()).Message);
        }

        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains("too slow", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Acknowledging_the_direct_messages_of_many_senders_does_not_count_against_the_recipients_rate()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MessagesPerSecond = 1, MessageBurst = 10 });
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var sam = await server.AddAndLogOnAsync("sam");
        await using var sue = await server.AddAndLogOnAsync("sue");

        // Each sender stays within its own burst, but bob, as the reference client does, answers every DM with DM_ACK:
        // twenty receipts, twice his own burst.
        for (var i = 0; i < 9; i++)
        {
            await sam.SendAsync(new Dm("bob", $"sam {i}", $"{i}"));
            await sue.SendAsync(new Dm("bob", $"sue {i}", $"{i}"));
        }

        for (var i = 0; i < 18; i++)
        {
            await bob.SendAsync(new DmAck((await bob.ExpectAsync<Dm>()).Seq!.Value));
        }

        await bob.ExpectNothingPendingAsync();

        // Receipts for DMs he was never sent are his own messages, and a flood of them is one.
        for (var i = 0; i < 30; i++)
        {
            await bob.SendAsync(new DmAck(1));
        }

        var refusal = Assert.IsType<Error>(Assert.Single(await bob.ExpectClosedAsync()));
        Assert.Equal(ErrorCodes.RateLimited, refusal.Code);
    }

    [Fact]
    public async Task One_address_holds_only_its_share_of_the_connections_owing_CONNECT_and_others_still_log_on()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxUnauthenticatedPerAddress = 2, ConnectTimeout = TimeSpan.FromMinutes(5) });
        var attacker = System.Net.IPAddress.Parse("127.0.0.5");
        RawTcp[] raws = [await RawTcp.ConnectAsync(server, attacker), await RawTcp.ConnectAsync(server, attacker), await RawTcp.ConnectAsync(server, attacker)];
        try
        {
            var closes = raws.Select(r => r.ExpectClosedAsync()).ToArray();
            var busy = Assert.IsType<Error>(Assert.Single(await await Task.WhenAny(closes)));
            Assert.Equal(ErrorCodes.ServerBusy, busy.Code);

            // The host's two slots are held, and someone else logs on as if nothing happened.
            server.AddUser("alice", "pw");
            await using var alice = await ParleyConnection.LogOnAsync(server.ClientOptions with { LocalAddress = System.Net.IPAddress.Parse("127.0.0.6") }, "alice", "pw");
            Assert.Equal("alice", alice.ClientId);
            Assert.Equal(2, closes.Count(c => !c.IsCompleted));
        }
        finally
        {
            foreach (var raw in raws)
            {
                await raw.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Connections_that_never_send_CONNECT_are_capped_and_the_next_one_gets_SERVER_BUSY()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxUnauthenticatedConnections = 2, MaxUnauthenticatedPerAddress = 100, ConnectTimeout = TimeSpan.FromMinutes(5) });
        RawTcp[] raws = [await RawTcp.ConnectAsync(server), await RawTcp.ConnectAsync(server), await RawTcp.ConnectAsync(server)];
        try
        {
            // Three silent connections against a cap of two: whichever the server counts third is refused at once.
            var closes = raws.Select(r => r.ExpectClosedAsync()).ToArray();
            var refused = await await Task.WhenAny(closes);
            var busy = Assert.IsType<Error>(Assert.Single(refused));
            Assert.Equal((ErrorCodes.ServerBusy, "Too many connections are logging on at once; try again shortly."), (busy.Code, busy.Text));

            // A freed slot takes a log-on again.
            await raws[Array.FindIndex(closes, c => !c.IsCompleted)].DisposeAsync();
            await using var alice = await LogOnWhenFreeAsync(server, "alice");
            Assert.Equal("alice", alice.ClientId);
        }
        finally
        {
            foreach (var raw in raws)
            {
                await raw.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_connection_that_dribbles_its_CONNECT_is_closed_at_the_connect_timeout()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { ConnectTimeout = TimeSpan.FromSeconds(1) });
        await using var slow = await RawTcp.ConnectAsync(server);
        var frame = RawWire.PlainFrame(new Connect("alice", new string('c', 200)));

        // One byte every 50 ms would take over 10 s for the whole frame; the server must not wait for it.
        var closed = slow.ExpectClosedAsync();
        var written = 0;
        try
        {
            while (!closed.IsCompleted && written < frame.Length)
            {
                await slow.SendAsync(frame[written..(written + 1)]);
                written++;
                await Task.WhenAny(closed, Task.Delay(50));
            }
        }
        catch (IOException)
        {
            // The server closed while we wrote: that is the point.
        }

        Assert.Empty(await closed);
        Assert.True(written < frame.Length, $"the server waited for all {frame.Length} bytes");
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task Past_the_connection_cap_a_new_TCP_connection_is_closed_unanswered()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxConnections = 2 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");

        await using var third = await RawTcp.ConnectAsync(server);
        Assert.Empty(await third.ExpectClosedAsync());

        await bob.LogOffAsync();
        await using var carol = await LogOnWhenFreeAsync(server, "carol");
        await alice.ExpectNothingPendingAsync();
    }

    /// <summary>Logs <paramref name="clientId"/> on, retrying while the server has not yet seen a slot freed.</summary>
    private static async Task<ParleyConnection> LogOnWhenFreeAsync(InProcessServer server, string clientId)
    {
        server.AddUser(clientId, "pw");
        using var deadline = new CancellationTokenSource(InProcessServer.Timeout);
        while (true)
        {
            try
            {
                return await server.LogOnAsync(clientId, "pw");
            }
            catch (ParleyClientException) when (!deadline.IsCancellationRequested)
            {
                await Task.Delay(50, deadline.Token);
            }
        }
    }
}
