using Parley.Protocol.Messages;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

public sealed class ChatSessionTests
{
    [Fact]
    public async Task Chat_starts_on_both_sides_and_messages_reach_only_the_peer()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");

        await alice.SendAsync(new ChatRequest("bob"));
        var atAlice = await alice.ExpectAsync<ChatStarted>();
        var atBob = await bob.ExpectAsync<ChatStarted>();
        Assert.Equal(atAlice.SessionId, atBob.SessionId);
        Assert.Equal("bob", atAlice.ClientId);
        Assert.Equal("alice", atBob.ClientId);

        await alice.SendAsync(new Chat(atAlice.SessionId, "Hello Bob"));
        var received = await bob.ExpectAsync<Chat>();
        Assert.Equal(("Hello Bob", "alice", atAlice.SessionId), (received.Message, received.From, received.SessionId));
        await bob.SendAsync(new Chat(atBob.SessionId, "Hi Alice"));
        Assert.Equal("Hi Alice", (await alice.ExpectAsync<Chat>()).Message);

        await alice.ExpectNothingPendingAsync();
        await bob.ExpectNothingPendingAsync();
        await carol.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task A_message_is_in_the_database_before_the_peer_receives_it()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        await alice.SendAsync(new Chat(session, "durable first"));
        await bob.ExpectAsync<Chat>();
        var stored = await new MessageStore(server.Database).ReadConversationAsync("bob", "alice", 0, 10, CancellationToken.None);
        var only = Assert.Single(stored);
        Assert.Equal(("alice", "bob", session, "durable first"), (only.Sender, only.Recipient, only.SessionId, only.Body));
    }

    [Fact]
    public async Task Unreachable_when_the_peer_is_unknown_offline_busy_or_in_a_session()
    {
        await using var server = await InProcessServer.StartAsync();
        foreach (var id in new[] { "a", "b", "c", "offline" })
        {
            server.AddUser(id, "pw");
        }

        await using var a = await server.LogOnAsync("a", "pw");
        await using var b = await server.LogOnAsync("b", "pw");
        await using var c = await server.LogOnAsync("c", "pw");

        await c.SendAsync(new ChatRequest("nosuchuser"));
        Assert.Equal("nosuchuser", (await c.ExpectAsync<Unreachable>()).ClientId);
        await c.SendAsync(new ChatRequest("offline"));
        Assert.Equal("offline", (await c.ExpectAsync<Unreachable>()).ClientId);

        await a.SendAsync(new ChatRequest("b"));
        await a.ExpectAsync<ChatStarted>();
        await b.ExpectAsync<ChatStarted>();
        await c.SendAsync(new ChatRequest("b"));
        Assert.Equal("b", (await c.ExpectAsync<Unreachable>()).ClientId);
        await b.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task Ending_a_chat_notifies_only_the_other_party_and_ends_the_session()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        await bob.SendAsync(new EndRequest(session));
        var notif = await alice.ExpectAsync<EndNotif>();
        Assert.Equal((session, EndReasons.Ended), (notif.SessionId, notif.Reason));
        await bob.ExpectNothingPendingAsync();

        // The crossing END_REQUEST from alice is not an error; a CHAT into the ended session is refused.
        await alice.SendAsync(new EndRequest(session));
        await alice.SendAsync(new Chat(session, "too late"));
        Assert.Equal(ErrorCodes.NotInSession, (await alice.ExpectAsync<Error>()).Code);
        await bob.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task A_party_that_disconnects_mid_session_ends_it_for_the_other()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        await bob.DisposeAsync(); // drops the TCP connection without LOG_OFF
        var notif = await alice.ExpectAsync<EndNotif>();
        Assert.Equal((session, EndReasons.PeerLeft), (notif.SessionId, notif.Reason));
    }

    [Fact]
    public async Task Log_off_ends_the_session_for_the_peer_and_closes_the_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        var bob = await server.AddAndLogOnAsync("bob");
        await alice.StartChatWithAsync(bob, "bob");

        await bob.LogOffAsync();
        Assert.Equal(EndReasons.PeerLeft, (await alice.ExpectAsync<EndNotif>()).Reason);
        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("bob disconnected (logged off)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_log_on_replaces_the_first()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using var first = await server.LogOnAsync("alice", "a");
        await using var second = await server.LogOnAsync("ALICE", "a");
        var rest = await first.ExpectClosedAsync();
        Assert.Equal(ErrorCodes.LoggedOnElsewhere, Assert.IsType<Error>(Assert.Single(rest)).Code);
        Assert.Equal("alice", second.ClientId);
        await second.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task Chat_with_yourself_or_a_second_chat_is_refused_with_a_clear_error()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");

        await alice.SendAsync(new ChatRequest("Alice"));
        Assert.Equal(ErrorCodes.NotAllowed, (await alice.ExpectAsync<Error>()).Code);
        await alice.SendAsync(new ChatRequest("bob"));
        await alice.ExpectAsync<ChatStarted>();
        await alice.SendAsync(new ChatRequest("carol"));
        Assert.Equal(ErrorCodes.AlreadyInSession, (await alice.ExpectAsync<Error>()).Code);
        await alice.SendAsync(new ChatRequest("not valid!"));
        Assert.Equal(ErrorCodes.InvalidClientId, (await alice.ExpectAsync<Error>()).Code);
        await carol.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task An_idle_client_is_logged_off_by_the_server_even_while_it_sends_keep_alives()
    {
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            ActivityTimeout = TimeSpan.FromSeconds(1),
            KeepAliveInterval = TimeSpan.FromSeconds(1),
            SlowConsumerTimeout = TimeSpan.FromSeconds(2),
        });
        server.AddUser("alice", "a");
        await using var alice = await server.LogOnAsync("alice", "a");
        Assert.Equal(TimeSpan.FromSeconds(1), alice.ActivityTimeout);
        var rest = await alice.ExpectClosedAsync();
        Assert.Equal(ErrorCodes.IdleTimeout, Assert.IsType<Error>(Assert.Single(rest)).Code);
    }

    [Fact]
    public async Task A_peer_that_stops_reading_is_disconnected_and_its_partner_is_told()
    {
        // Alice's flood must reach bob's queue, not her own rate limit.
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            OutboundQueueCapacity = 16,
            SlowConsumerTimeout = TimeSpan.FromSeconds(1),
            MessagesPerSecond = 1_000_000,
            MessageBurst = 1_000_000,
        });
        server.AddUser("alice", "pw");
        server.AddUser("bob", "pw");

        // Alice's client buffers everything it receives, so the refusals of her own flood cannot make her slow too.
        await using var alice = await Client.ParleyConnection.LogOnAsync(server.ClientOptions with { EventQueueCapacity = 1_000_000 }, "alice", "pw");
        await using var bob = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "bob", "pw")); // never reads again
        await alice.SendAsync(new ChatRequest("bob"));
        var session = (await alice.ExpectAsync<ChatStarted>()).SessionId;

        // Alice sends until bob's socket buffers and queue are full; the server must then cut bob off, not alice.
        using var stop = new CancellationTokenSource(InProcessServer.Timeout);
        var sending = alice.FloodAsync(session, 20_000, stop.Token);

        EndNotif? end = null;
        while (end is null)
        {
            switch (await alice.Events.ReadAsync(stop.Token))
            {
                case EndNotif n: end = n; break;
                case Error e: Assert.Equal(ErrorCodes.NotInSession, e.Code); break; // sends that crossed the ending
                case var other: Assert.Fail($"unexpected {other}"); break;
            }
        }

        await stop.CancelAsync();
        await sending;
        Assert.Equal((session, EndReasons.PeerLeft), (end.SessionId, end.Reason));
        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("bob has not drained its queue for 1 s", StringComparison.Ordinal));

        // Alice is still served: past the refusals of sends that crossed the ending, her request is answered.
        await alice.SendAsync(new HistoryReq("nobody-at-all"));
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (await alice.Events.ReadAsync(timeout.Token) is Error refused)
        {
            Assert.Equal(ErrorCodes.NotInSession, refused.Code);
        }
    }

    [Theory]
    [InlineData("end")]
    [InlineData("logoff")]
    [InlineData("drop")]
    public async Task The_last_messages_before_a_chat_ends_reach_the_peer_before_the_end(string how)
    {
        await using var server = await InProcessServer.StartAsync();
        var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        // No waiting between the messages and the end: the end must not overtake them.
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(new Chat(session, $"last words {i}"));
        }

        switch (how)
        {
            case "end":
                await alice.SendAsync(new EndRequest(session));
                break;
            case "logoff":
                await alice.LogOffAsync();
                break;
            default:
                await alice.DisposeAsync();
                break;
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal($"last words {i}", (await bob.ExpectAsync<Chat>()).Message);
        }

        Assert.Equal(session, (await bob.ExpectAsync<EndNotif>()).SessionId);
        await alice.DisposeAsync();
    }

    [Fact]
    public async Task A_failed_store_gives_back_the_peer_s_room_and_wakes_waiting_senders()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { OutboundQueueCapacity = 16, SlowConsumerTimeout = TimeSpan.FromSeconds(5) });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        // Every insert fails; a held write lock makes the first batch wait, so alice's later CHATs queue up behind it
        // and reserve bob's room until the failures give it back.
        using var admin = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.Options.DataDirectory, "parley.db")}");
        admin.Open();
        using (var trigger = admin.CreateCommand())
        {
            trigger.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(FAIL, 'disk on fire'); END;";
            trigger.ExecuteNonQuery();
        }

        using (var hold = admin.CreateCommand())
        {
            hold.CommandText = "BEGIN IMMEDIATE;";
            hold.ExecuteNonQuery();
        }

        for (var i = 0; i < 12; i++)
        {
            await alice.SendAsync(new Chat(session, $"m{i}"));
        }

        using (var release = admin.CreateCommand())
        {
            release.CommandText = "ROLLBACK;";
            release.ExecuteNonQuery();
        }

        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(ErrorCodes.StorageFailed, (await alice.ExpectAsync<Error>()).Code);
        }

        await bob.ExpectNothingPendingAsync(); // still connected, never judged slow
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains("has not drained", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Shutdown_does_not_wait_for_a_connection_that_never_sent_CONNECT()
    {
        var server = await InProcessServer.StartAsync(o => o with { ConnectTimeout = TimeSpan.FromMinutes(10) });
        await using var silent = await RawTcp.ConnectAsync(server);
        var stopping = server.DisposeAsync().AsTask();

        // Kestrel gives connections 30 s to finish; ours must not need it.
        var closed = silent.ExpectClosedAsync();
        Assert.Same(closed, await Task.WhenAny(closed, Task.Delay(TimeSpan.FromSeconds(20))));
        await stopping;
    }

    [Fact]
    public async Task A_connected_client_is_told_when_the_server_shuts_down()
    {
        var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await server.DisposeAsync();
        var rest = await alice.ExpectClosedAsync();
        Assert.Equal(ErrorCodes.ShuttingDown, Assert.IsType<Error>(Assert.Single(rest)).Code);
    }
}
