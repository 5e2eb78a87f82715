using System.Net.Sockets;
using System.Text;
using Parley.Protocol.Messages;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>
/// Issue #7, in process: the operator's commands (the console and <c>parley admin</c> run the same ones), the admin
/// socket, and the graceful shutdown's promises: sessions end with END_NOTIF, every client is told, nothing a
/// client was shown is missing from history.
/// </summary>
public sealed class OperatorTests
{
    [Fact]
    public async Task Shutdown_relays_and_stores_what_was_received_then_ends_sessions_and_tells_both_parties()
    {
        // The burst is twice the default message burst: it must be in flight at the shutdown, not refused as a flood.
        await using var server = await InProcessServer.StartAsync(o => o with { MessageBurst = 1000 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        // A burst still in flight when the shutdown starts: whatever the server took in must be stored and relayed.
        const int burst = 200;
        for (var i = 0; i < burst; i++)
        {
            await alice.SendAsync(new Chat(session, $"message {i}"));
        }

        await server.Server.DisposeAsync();

        var atBob = await bob.ExpectClosedAsync();
        var atAlice = await alice.ExpectClosedAsync();
        var relayed = atBob.OfType<Chat>().Select(c => c.Message).ToList();

        // Bob's last words from the server: END_NOTIF for the session, then SHUTTING_DOWN; alice gets the same pair.
        Assert.Equal([typeof(EndNotif), typeof(Error)], atBob.Where(m => m is not Chat).Select(m => m.GetType()));
        Assert.Equal([typeof(EndNotif), typeof(Error)], atAlice.Select(m => m.GetType()));
        foreach (var last in new[] { atBob, atAlice })
        {
            Assert.Equal((session, EndReasons.ServerShutdown), (last.OfType<EndNotif>().Single().SessionId, last.OfType<EndNotif>().Single().Reason));
            Assert.Equal(ErrorCodes.ShuttingDown, last.OfType<Error>().Single().Code);
            Assert.IsType<Error>(last[^1]);
        }

        // Relayed in order, and every relayed message is in history (relay follows commit): none shown and lost.
        Assert.Equal(Enumerable.Range(0, relayed.Count).Select(i => $"message {i}"), relayed);
        var stored = await new MessageStore(server.Database).ReadConversationAsync("alice", "bob", 0, burst + 1, CancellationToken.None);
        Assert.Equal(relayed, stored.Select(m => m.Body));
    }

    [Fact]
    public async Task A_request_stuck_on_a_client_that_stopped_reading_is_abandoned_and_other_chats_still_end_with_END_NOTIF()
    {
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            OutboundQueueCapacity = 16,
            SlowConsumerTimeout = TimeSpan.FromSeconds(80),
            ShutdownTimeout = TimeSpan.FromSeconds(4),
            MessagesPerSecond = 1_000_000, // carol's flood must reach dave's queue, not her own rate limit
            MessageBurst = 1_000_000,
        });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var healthy = await alice.StartChatWithAsync(bob, "bob");

        // Dave never reads; carol's CHATs fill his socket and his queue, and then her next one waits for room for up
        // to 80 s (the slow-consumer timeout), far past the 4 s shutdown timeout.
        server.AddUser("carol", "pw");
        server.AddUser("dave", "pw");
        await using var carol = await Client.ParleyConnection.LogOnAsync(server.ClientOptions with { EventQueueCapacity = 1_000_000 }, "carol", "pw");
        await using var dave = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "dave", "pw"));
        await carol.SendAsync(new ChatRequest("dave"));
        var stuck = (await carol.ExpectAsync<ChatStarted>()).SessionId;
        using var stop = new CancellationTokenSource(InProcessServer.Timeout);
        var flooding = carol.FloodAsync(stuck, 50_000, stop.Token);
        // Polls the server's state (bounded by the test's timeout) until carol's request has waited for room at dave for
        // 25 polls in a row: dave's socket is full by then, so it waits on; a wait that ends sooner starts the count again.
        var daveOnServer = server.Server.Router.TryGetOnline("dave")!;
        for (var waiting = 0; waiting < 25; waiting = daveOnServer.WaitingForRoom > 0 ? waiting + 1 : 0)
        {
            await Task.Delay(40, stop.Token);
        }

        var stopping = server.Server.DisposeAsync().AsTask();
        Assert.Same(stopping, await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(40))));
        await stopping;
        await stop.CancelAsync();
        await flooding;

        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("abandoning 1 requests", StringComparison.Ordinal));

        // The healthy chat ended properly on both sides, and both were told.
        foreach (var client in new[] { alice, bob })
        {
            var rest = await client.ExpectClosedAsync();
            Assert.Equal((healthy, EndReasons.ServerShutdown), (rest.OfType<EndNotif>().Single().SessionId, rest.OfType<EndNotif>().Single().Reason));
            Assert.Equal(ErrorCodes.ShuttingDown, Assert.IsType<Error>(rest[^1]).Code);
        }
    }

    [Fact]
    public async Task A_stuck_disk_cannot_hold_the_shutdown_past_its_timeout_and_everyone_is_still_told()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { ShutdownTimeout = TimeSpan.FromSeconds(4) });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");
        var session = await alice.StartChatWithAsync(bob, "bob");

        // Another writer holds the database, so the commit of alice's CHAT waits (SQLite's busy timeout is 30 s).
        // HISTORY_END proves the server took the CHAT in: it answers alice's requests in order.
        using var holder = OperatorDatabase.Open(Path.Combine(server.Options.DataDirectory, ParleyDatabase.FileName));
        OperatorDatabase.Query(holder, "BEGIN IMMEDIATE;", _ => 0);
        await alice.SendAsync(new Chat(session, "waits for the disk"));
        await alice.ExpectNothingPendingAsync();

        var stopping = server.Server.DisposeAsync().AsTask();
        Assert.Same(stopping, await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(20))));
        await stopping;

        // Nobody saw the uncommitted CHAT, and every client was told before its link closed.
        foreach (var client in new[] { alice, bob, carol })
        {
            var rest = await client.ExpectClosedAsync();
            Assert.DoesNotContain(rest, m => m is Chat);
            Assert.Equal(ErrorCodes.ShuttingDown, Assert.IsType<Error>(rest[^1]).Code);
        }

        Assert.Contains(server.Logs.Entries, e => e.Text.Contains("history was still being committed", StringComparison.Ordinal));
        OperatorDatabase.Query(holder, "ROLLBACK;", _ => 0);
    }

    [Fact]
    public async Task Users_and_sessions_list_who_is_online_since_when_from_where_and_who_chats_with_whom()
    {
        await using var server = await InProcessServer.StartAsync();
        Assert.Equal(["No users online"], server.Server.Execute("users", "test").Lines);
        Assert.Equal(["No chat sessions"], server.Server.Execute("SESSIONS", "test").Lines);

        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var carol = await server.AddAndLogOnAsync("carol");
        var session = await alice.StartChatWithAsync(bob, "bob");

        var users = server.Server.Execute("users", "test");
        Assert.True(users.Ok);
        Assert.Equal("3 users online:", users.Lines[0]);
        Assert.Matches(@"^  alice  since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  from 127\.0\.0\.1:\d+  chatting with bob$", users.Lines[1]);
        Assert.Matches(@"^  bob    since .+  from 127\.0\.0\.1:\d+  chatting with alice$", users.Lines[2]);
        Assert.Matches(@"^  carol  since .+  from 127\.0\.0\.1:\d+$", users.Lines[3]);

        var sessions = server.Server.Execute("sessions", "test");
        Assert.Equal("1 chat session:", sessions.Lines[0]);
        Assert.Matches($@"^  {session}  (alice and bob|bob and alice)  since \d{{4}}-.+$", sessions.Lines[1]);
    }

    [Fact]
    public async Task Kick_ends_the_target_connection_only_and_tells_it_why()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var session = await alice.StartChatWithAsync(bob, "bob");

        var reply = server.Server.Execute("kick BOB flooding the room", "test");
        Assert.Equal((true, "Disconnected bob"), (reply.Ok, Assert.Single(reply.Lines)));
        var last = Assert.IsType<Error>(Assert.Single(await bob.ExpectClosedAsync()));
        Assert.Equal((ErrorCodes.Kicked, "The server's operator disconnected you: flooding the room"), (last.Code, last.Text));

        // alice stays: her chat ends because bob left, and she is still served.
        var end = await alice.ExpectAsync<EndNotif>();
        Assert.Equal((session, EndReasons.PeerLeft), (end.SessionId, end.Reason));
        await alice.ExpectNothingPendingAsync();
        Assert.Equal(["1 user online:"], server.Server.Execute("users", "test").Lines.Take(1));

        // Kicking someone who is not online, or nobody, is refused with a sentence.
        var again = server.Server.Execute("kick bob", "test");
        Assert.Equal((false, "bob is not online."), (again.Ok, again.Lines[0]));
        Assert.False(server.Server.Execute("kick", "test").Ok);
    }

    [Fact]
    public async Task Broadcast_reaches_everyone_online_as_a_notice_and_refuses_empty_or_oversized_text()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxMessageBytes = 100 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");

        var reply = server.Server.Execute("broadcast Maintenance at noon", "test");
        Assert.Equal((true, "Notice sent to 2 users"), (reply.Ok, Assert.Single(reply.Lines)));
        foreach (var client in new[] { alice, bob })
        {
            var notice = await client.ExpectAsync<Notice>();
            Assert.Equal("Maintenance at noon", notice.Text);
            Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - notice.SentAt, 0, 60_000);
        }

        Assert.False(server.Server.Execute("broadcast", "test").Ok);
        var tooLong = server.Server.Execute("broadcast " + new string('x', 101), "test");
        Assert.False(tooLong.Ok);
        Assert.Contains("100 bytes", tooLong.Lines[0], StringComparison.Ordinal);
        await alice.ExpectNothingPendingAsync();

        var unknown = server.Server.Execute("reboot now", "test");
        Assert.Equal((false, "Unknown command \"reboot\"; type help for the list."), (unknown.Ok, unknown.Lines[0]));
        Assert.Contains(server.Server.Execute("help", "test").Lines, l => l.TrimStart().StartsWith("TERMINATE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Terminate_asks_the_host_to_stop_and_says_so()
    {
        await using var server = await InProcessServer.StartAsync();
        Assert.False(server.Server.StopRequested.IsCompleted);
        Assert.Equal(["Shutting down"], server.Server.Execute("terminate", "console").Lines);
        Assert.Equal("TERMINATE from the console", await server.Server.StopRequested.WaitAsync(InProcessServer.Timeout));
    }

    [Fact]
    public async Task The_admin_socket_answers_only_its_owner_and_a_second_server_cannot_take_it()
    {
        var directory = Directory.CreateTempSubdirectory("parley-admin-");
        var socket = Path.Combine(directory.FullName, "admin.sock");

        await using var server = await InProcessServer.StartAsync(o => o with { AdminSocketPath = socket });
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(socket));
        await using var alice = await server.AddAndLogOnAsync("alice");

        Assert.Equal("ok\n1 user online:", string.Join('\n', (await AskAsync(socket, "users\n")).Split('\n').Take(2)));
        Assert.StartsWith("error\nUnknown command", await AskAsync(socket, "frobnicate\n"), StringComparison.Ordinal);
        Assert.StartsWith("error\nSend one command line", await AskAsync(socket, new string('x', 20_000) + "\n"), StringComparison.Ordinal);

        var second = await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessServer.StartAsync(o => o with { AdminSocketPath = socket }));
        Assert.Contains("Another Parley server is running", second.Message, StringComparison.Ordinal);
        Assert.Equal("ok\n1 user online:", string.Join('\n', (await AskAsync(socket, "users\n")).Split('\n').Take(2)));
    }

    [Fact]
    public async Task An_admin_socket_path_that_is_not_a_socket_is_refused_and_left_alone()
    {
        var directory = Directory.CreateTempSubdirectory("parley-admin-");
        var precious = Path.Combine(directory.FullName, "precious.txt");
        await File.WriteAllTextAsync(precious, "the operator's notes");

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => InProcessServer.StartAsync(o => o with { AdminSocketPath = precious }));
        Assert.Contains("--admin-socket", refused.Message, StringComparison.Ordinal);
        Assert.Contains("is not a socket", refused.Message, StringComparison.Ordinal);
        Assert.Equal("the operator's notes", await File.ReadAllTextAsync(precious));
    }

    private static async Task<string> AskAsync(string socket, string request)
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), timeout.Token);
        await client.SendAsync(Encoding.UTF8.GetBytes(request), timeout.Token);
        await using var stream = new NetworkStream(client);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(timeout.Token);
    }
}
