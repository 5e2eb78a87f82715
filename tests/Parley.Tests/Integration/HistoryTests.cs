using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

public sealed class HistoryTests
{
    private static async Task<string> ChatAsync(Client.ParleyConnection from, Client.ParleyConnection to, string peer, params string[] lines)
    {
        var session = await from.StartChatWithAsync(to, peer);
        foreach (var line in lines)
        {
            await from.SendAsync(new Chat(session, line));
            await to.ExpectAsync<Chat>();
        }

        await from.SendAsync(new EndRequest(session));
        await to.ExpectAsync<EndNotif>();
        return session;
    }

    [Fact]
    public async Task History_returns_the_pair_s_messages_in_order_across_sessions_and_a_restart_then_an_end_marker()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { HistoryPageSize = 2 });
        server.AddUser("alice", "a");
        server.AddUser("bob", "b");
        server.AddUser("carol", "c");
        string first, second;
        await using (var alice = await server.LogOnAsync("alice", "a"))
        await using (var bob = await server.LogOnAsync("bob", "b"))
        await using (var carol = await server.LogOnAsync("carol", "c"))
        {
            first = await ChatAsync(alice, bob, "bob", "one", "two", "three");
            await ChatAsync(alice, carol, "carol", "not for bob");
            second = await ChatAsync(bob, alice, "alice", "four");
        }

        await server.RestartAsync();
        await using var again = await server.LogOnAsync("alice", "a");
        await again.SendAsync(new HistoryReq("BOB"));
        var got = new List<HistoryResp>();
        for (var i = 0; i < 4; i++)
        {
            got.Add(await again.ExpectAsync<HistoryResp>());
        }

        Assert.Equal(["one", "two", "three", "four"], got.Select(h => h.Message));
        Assert.Equal(["alice", "alice", "alice", "bob"], got.Select(h => h.ClientId));
        Assert.Equal([first, first, first, second], got.Select(h => h.SessionId));
        Assert.True(got.Zip(got.Skip(1)).All(p => p.First.SentAt <= p.Second.SentAt));
        var end = await again.ExpectAsync<HistoryEnd>();
        Assert.Equal(("BOB", 4), (end.ClientId, end.Count));
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_refused_and_neither_stored_nor_relayed()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxMessageBytes = 100 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        Assert.Equal(100, alice.MaxMessageBytes);
        var session = await alice.StartChatWithAsync(bob, "bob");

        await alice.SendAsync(new Chat(session, new string('é', 51))); // 102 UTF-8 bytes
        Assert.Equal(ErrorCodes.MessageTooLarge, (await alice.ExpectAsync<Error>()).Code);
        await alice.SendAsync(new Chat(session, new string('x', 100)));
        Assert.Equal(100, (await bob.ExpectAsync<Chat>()).Message.Length);
        await alice.SendAsync(new HistoryReq("bob"));
        await alice.ExpectAsync<HistoryResp>();
        Assert.Equal(1, (await alice.ExpectAsync<HistoryEnd>()).Count);
    }

    [Fact]
    public async Task Message_content_never_appears_in_the_server_log()
    {
        const string Secret = "the-vault-code-is-4711";
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "correct horse battery");
        server.AddUser("bob", "b");
        await using var alice = await server.LogOnAsync("alice", "correct horse battery");
        await using var bob = await server.LogOnAsync("bob", "b");
        await alice.SendAsync(new ChatRequest("bob"));
        var session = (await alice.ExpectAsync<ChatStarted>()).SessionId;
        await bob.ExpectAsync<ChatStarted>();
        await alice.SendAsync(new Chat(session, Secret));
        await bob.ExpectAsync<Chat>();
        await alice.SendAsync(new Chat("wrong-session", Secret));
        await alice.ExpectAsync<Error>();

        Assert.NotEmpty(server.Logs.Entries);
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains(Secret, StringComparison.Ordinal) || e.Text.Contains("correct horse", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_history_longer_than_the_outbound_queue_does_not_crowd_out_live_messages()
    {
        const int Stored = 300;
        await using var server = await InProcessServer.StartAsync(o => o with { OutboundQueueCapacity = 16 });
        await using (var writer = new Storage.HistoryWriter(server.Database))
        {
            for (var i = 0; i < Stored; i++)
            {
                await writer.AppendAndWaitAsync(new Storage.StoredMessage("old", i % 2 == 0 ? "alice" : "bob", i % 2 == 0 ? "bob" : "alice", $"old {i}", i), CancellationToken.None);
            }
        }

        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var carol = await server.AddAndLogOnAsync("carol");
        var session = await carol.StartChatWithAsync(alice, "alice");

        // Carol talks to alice while alice's history with bob streams in; alice must get all of both and stay connected.
        await alice.SendAsync(new HistoryReq("bob"));
        var live = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await carol.SendAsync(new Chat(session, $"live {i}"));
            }
        });

        var history = new List<string>();
        var chats = new List<string>();
        var ended = false;
        while (!ended || chats.Count < 40)
        {
            using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
            if (!await alice.Events.WaitToReadAsync(timeout.Token))
            {
                Assert.Fail("alice was disconnected: " + string.Join("; ", server.Logs.Entries.Select(e => e.Text).Where(t => t.Contains("alice", StringComparison.Ordinal))));
            }

            switch (await alice.Events.ReadAsync(timeout.Token))
            {
                case HistoryResp h: history.Add(h.Message); break;
                case Chat c: chats.Add(c.Message); break;
                case HistoryEnd end:
                    Assert.Equal(Stored, end.Count);
                    ended = true;
                    break;
                case var other: Assert.Fail($"unexpected {other}"); break;
            }
        }

        await live;
        Assert.Equal(Enumerable.Range(0, Stored).Select(i => $"old {i}"), history);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"live {i}"), chats);
        await alice.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task A_history_the_store_cannot_read_gets_STORAGE_FAILED_and_the_link_goes_on()
    {
        await using var server = await InProcessServer.StartAsync();
        server.ExpectedErrors.Add("Reading history");
        await using var alice = await server.AddAndLogOnAsync("alice");
        using (var admin = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.Options.DataDirectory, "parley.db")}"))
        {
            admin.Open();
            using var rename = admin.CreateCommand();
            rename.CommandText = "ALTER TABLE messages RENAME TO messages_gone;";
            rename.ExecuteNonQuery();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // pooled connections cached the old schema
        await alice.SendAsync(new HistoryReq("bob"));
        Assert.Equal(ErrorCodes.StorageFailed, (await alice.ExpectAsync<Error>()).Code);
        await alice.SendAsync(new ChatRequest("nobody"));
        await alice.ExpectAsync<Unreachable>();
    }
}
