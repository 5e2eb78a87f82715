using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;
using static Parley.Tests.Support.MessagingSteps;

namespace Parley.Tests.Integration;

/// <summary>Issue #4: direct messages (live, offline, unread counts, the offline queue's bound); rooms are in <see cref="RoomTests"/>.</summary>
public sealed class MessagingTests
{
    [Fact]
    public async Task A_DM_to_an_online_user_is_delivered_with_sender_seq_and_time_and_confirmed_as_online()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");

        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await alice.SendAsync(new Dm("BOB", "hello bob", "m-1"));
        var received = await bob.ExpectAsync<Dm>();
        Assert.Equal(1, StoredRows(server, "dm")); // stored before it was delivered
        var sent = await alice.ExpectAsync<DmSent>();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(("bob", "hello bob", "alice"), (received.To, received.Message, received.From));
        Assert.Null(received.Id); // the sender's own label is not passed on
        Assert.NotNull(received.Seq);
        Assert.InRange(received.SentAt!.Value, before, after);
        Assert.Equal(("m-1", "bob", true), (sent.Id, sent.To, sent.Online));
        Assert.Equal(received.Seq, sent.Seq);
        Assert.Equal(received.SentAt, sent.SentAt);

        // A second DM orders after the first; nobody else hears anything.
        await bob.SendAsync(new Dm("alice", "hi alice", "r-1"));
        var reply = await alice.ExpectAsync<Dm>();
        Assert.True(reply.Seq > sent.Seq);
        Assert.Equal(reply.Seq, (await bob.ExpectAsync<DmSent>()).Seq);
        await alice.ExpectNothingPendingAsync();
        await bob.ExpectNothingPendingAsync();
        await carol.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task DMs_to_an_offline_user_wait_as_unread_counts_per_sender_and_TALK_replays_and_reads_them()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var carol = await server.AddAndLogOnAsync("carol");

        Assert.False((await SendDmAsync(alice, "bob", "from alice", "a1")).Online);
        Assert.False((await SendDmAsync(carol, "bob", "carol one", "c1")).Online);
        Assert.False((await SendDmAsync(carol, "bob", "carol two", "c2")).Online);

        await using (var bob = await server.LogOnAsync("bob", "pw"))
        {
            Assert.Equal([new UnreadCount("carol", 2), new UnreadCount("alice", 1)], bob.Unread); // most first

            var (replayed, end) = await TalkAsync(bob, "CAROL");
            Assert.Equal(["carol one", "carol two"], replayed.Select(d => d.Message));
            Assert.All(replayed, d => Assert.Equal(("carol", "bob"), (d.From, d.To)));
            Assert.True(replayed[0].Seq < replayed[1].Seq);
            Assert.Equal(("carol", 2, 2), (end.ClientId, end.Count, end.Unread));

            // Bob answers in the conversation; carol gets it live. Its DM_SENT also means the read receipt that
            // TALK queued before it is committed (receipts and DMs share the history writer's ordered batches).
            var answer = await SendDmAsync(bob, "carol", "thanks carol", "b1");
            Assert.True(answer.Online);
            Assert.Equal("thanks carol", (await carol.ExpectAsync<Dm>()).Message);

            (replayed, end) = await TalkAsync(bob, "alice");
            Assert.Equal(("from alice", "alice"), (Assert.Single(replayed).Message, replayed[0].From));
            Assert.Equal(("alice", 1, 1), (end.ClientId, end.Count, end.Unread));
            await SendDmAsync(bob, "alice", "thanks alice", "b2");
            Assert.Equal("thanks alice", (await alice.ExpectAsync<Dm>()).Message);
            await bob.LogOffAsync();
        }

        await using var again = await server.LogOnAsync("bob", "pw");
        Assert.Empty(again.Unread);

        // Both directions, oldest first; nothing is unread any more.
        var (conversation, last) = await TalkAsync(again, "carol");
        Assert.Equal(["carol one", "carol two", "thanks carol"], conversation.Select(d => d.Message));
        Assert.Equal(["carol", "carol", "bob"], conversation.Select(d => d.From));
        Assert.Equal(("carol", 3, 0), (last.ClientId, last.Count, last.Unread));
        await again.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task TALK_replays_only_the_newest_messages_up_to_its_limit_and_the_server_s()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxTalkMessages = 3 });
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        for (var i = 1; i <= 5; i++)
        {
            await SendDmAsync(alice, "bob", $"m{i}", $"id{i}");
        }

        await using var bob = await server.LogOnAsync("bob", "pw");
        Assert.Equal([new UnreadCount("alice", 5)], bob.Unread);

        var (replayed, end) = await TalkAsync(bob, "alice", limit: 2);
        Assert.Equal(["m4", "m5"], replayed.Select(d => d.Message));
        Assert.Equal((2, 5), (end.Count, end.Unread));

        (replayed, end) = await TalkAsync(bob, "alice", limit: 500);
        Assert.Equal(["m3", "m4", "m5"], replayed.Select(d => d.Message));
        Assert.Equal(3, end.Count);
    }

    [Fact]
    public async Task The_offline_queue_and_its_unread_counts_survive_a_restart()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxOfflineMessages = 3 });
        server.AddUser("bob", "pw");
        server.AddUser("alice", "pw");
        server.AddUser("carol", "pw");
        await using (var alice = await server.LogOnAsync("alice", "pw"))
        await using (var carol = await server.LogOnAsync("carol", "pw"))
        {
            await SendDmAsync(alice, "bob", "first from alice", "a1");
            await SendDmAsync(carol, "bob", "from carol", "c1");
            await SendDmAsync(alice, "bob", "second from alice", "a2");
        }

        await server.RestartAsync();

        // The restarted server still knows bob's queue is full.
        await using (var alice = await server.LogOnAsync("alice", "pw"))
        {
            await ExpectErrorAsync(alice, new Dm("bob", "one too many", "a3"), ErrorCodes.QueueFull);
        }

        await using var bob = await server.LogOnAsync("bob", "pw");
        Assert.Equal([new UnreadCount("alice", 2), new UnreadCount("carol", 1)], bob.Unread);
        var (replayed, end) = await TalkAsync(bob, "alice");
        Assert.Equal(["first from alice", "second from alice"], replayed.Select(d => d.Message));
        Assert.Equal((2, 2), (end.Count, end.Unread));
        (replayed, _) = await TalkAsync(bob, "carol");
        Assert.Equal("from carol", Assert.Single(replayed).Message);
        Assert.Equal(3, StoredRows(server, "dm"));
    }

    [Fact]
    public async Task A_DM_past_the_offline_queue_is_refused_and_not_stored_until_the_recipient_reads_the_queue()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxOfflineMessages = 3 });
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var carol = await server.AddAndLogOnAsync("carol");
        for (var i = 1; i <= 3; i++)
        {
            Assert.False((await SendDmAsync(alice, "bob", $"queued {i}", $"q{i}")).Online);
        }

        var refusal = await ExpectErrorAsync(alice, new Dm("bob", "fourth", "q4"), ErrorCodes.QueueFull);
        Assert.Contains("bob", refusal.Text, StringComparison.Ordinal);

        // The bound is per recipient: another sender is refused too, and nothing more was stored.
        await ExpectErrorAsync(carol, new Dm("bob", "from carol", "c1"), ErrorCodes.QueueFull);
        Assert.Equal(3, StoredRows(server, "dm"));

        await using var bob = await server.LogOnAsync("bob", "pw");
        Assert.Equal([new UnreadCount("alice", 3)], bob.Unread);
        var (replayed, end) = await TalkAsync(bob, "alice");
        Assert.Equal(["queued 1", "queued 2", "queued 3"], replayed.Select(d => d.Message));
        Assert.Equal((3, 3), (end.Count, end.Unread));

        // Bob answers in the conversation; its DM_SENT means the read receipt TALK queued before it is committed.
        await SendDmAsync(bob, "alice", "got them", "b1");
        await alice.ExpectAsync<Dm>();

        // Reading freed the queue: alice's next DM is delivered live.
        Assert.True((await SendDmAsync(alice, "bob", "now you are here", "q5")).Online);
        Assert.Equal("now you are here", (await bob.ExpectAsync<Dm>()).Message);
        await alice.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task Live_DMs_count_against_the_queue_until_acknowledged_and_each_DM_ACK_frees_one_place()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxOfflineMessages = 3 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var seqs = new List<long>();
        for (var i = 1; i <= 3; i++)
        {
            Assert.True((await SendDmAsync(alice, "bob", $"live {i}", $"l{i}")).Online);
            seqs.Add((await bob.ExpectAsync<Dm>()).Seq!.Value);
        }

        // Bob's client never acknowledged them: they are not delivered, so the queue is full.
        await ExpectErrorAsync(alice, new Dm("bob", "fourth", "l4"), ErrorCodes.QueueFull);

        // One DM_ACK frees one place. Bob's own DM that follows is committed after the ack, so its DM_SENT proves
        // the ack has been applied (DM_ACK has no answer of its own).
        await bob.SendAsync(new DmAck(seqs[0]));
        await SendDmAsync(bob, "alice", "acked one", "b1");
        await alice.ExpectAsync<Dm>();

        await SendDmAsync(alice, "bob", "fits again", "l5");
        Assert.Equal("fits again", (await bob.ExpectAsync<Dm>()).Message);
        await ExpectErrorAsync(alice, new Dm("bob", "full again", "l6"), ErrorCodes.QueueFull);

        // Acknowledging the same DM twice, or alice acknowledging bob's DM, frees nothing.
        await bob.SendAsync(new DmAck(seqs[0]));
        await alice.SendAsync(new DmAck(seqs[1]));
        await SendDmAsync(bob, "alice", "barrier", "b2");
        await alice.ExpectAsync<Dm>();
        await ExpectErrorAsync(alice, new Dm("bob", "still full", "l7"), ErrorCodes.QueueFull);
        Assert.Equal(6, StoredRows(server, "dm")); // alice's four accepted DMs and bob's two
    }

    [Fact]
    public async Task Unknown_user_self_and_oversized_DMs_are_refused_and_nothing_is_stored()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxMessageBytes = 100 });
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");

        await ExpectErrorAsync(alice, new Dm("nosuchuser", "hello?", "u1"), ErrorCodes.UnknownUser);
        await ExpectErrorAsync(alice, new Dm("ALICE", "note to self", "s1"), ErrorCodes.NotAllowed);
        await ExpectErrorAsync(alice, new Dm("bob", new string('é', 51), "big"), ErrorCodes.MessageTooLarge); // 102 UTF-8 bytes
        await ExpectErrorAsync(alice, new Dm("not valid!", "hi", "v1"), ErrorCodes.InvalidClientId);
        await alice.ExpectNothingPendingAsync();
        Assert.Equal(0, StoredRows(server));

        // Exactly the limit is accepted; it is then the only DM bob has waiting.
        await SendDmAsync(alice, "bob", new string('x', 100), "ok");
        await using var bob = await server.LogOnAsync("bob", "pw");
        Assert.Equal([new UnreadCount("alice", 1)], bob.Unread);
        var (replayed, _) = await TalkAsync(bob, "alice");
        Assert.Equal(100, Assert.Single(replayed).Message.Length);
        await ExpectErrorAsync(alice, new Talk("nosuchuser"), ErrorCodes.UnknownUser);
    }

    // A TALK first waits for the receipts queued before it, so a conversation reopened at once (a quick !BACK,
    // !TALK) does not report the DMs its READ just marked as unread again. A held write lock keeps that READ from
    // committing until the second TALK has surely arrived.
    [Fact]
    public async Task A_conversation_reopened_right_away_reports_the_DMs_just_read_as_read()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await SendDmAsync(alice, "bob", "are you there?", "a1");
        await using var bob = await server.LogOnAsync("bob", "pw");
        var (replayed, first) = await ReplayAsync(bob, "alice");
        Assert.Equal((1, 1), (first.Count, first.Unread));

        using var admin = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={server.Database.Path}");
        admin.Open();
        using (var hold = admin.CreateCommand())
        {
            hold.CommandText = "BEGIN IMMEDIATE;";
            hold.ExecuteNonQuery();
        }

        try
        {
            await bob.SendAsync(new Read("alice", Assert.Single(replayed).Seq!.Value));
            await bob.SendAsync(new Talk("alice"));
        }
        finally
        {
            using var release = admin.CreateCommand();
            release.CommandText = "ROLLBACK;";
            release.ExecuteNonQuery();
        }

        Assert.Equal("are you there?", (await bob.ExpectAsync<Dm>()).Message);
        var reopened = await bob.ExpectAsync<TalkEnd>();
        Assert.Equal((1, 0), (reopened.Count, reopened.Unread));
    }

    [Fact]
    public async Task A_client_that_drops_during_a_replay_finds_the_messages_still_unread()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await SendDmAsync(alice, "bob", "one", "a1");
        await SendDmAsync(alice, "bob", "two", "a2");
        var bob = await server.LogOnAsync("bob", "pw");
        await using (bob)
        {
            var (replayed, end) = await ReplayAsync(bob, "alice");
            Assert.Equal((2, 2), (replayed.Count, end.Unread));
        }

        // No READ came: the replay was never confirmed shown, so both are still unread.
        await using var again = await server.LogOnAsync("bob", "pw");
        Assert.Equal([new UnreadCount("alice", 2)], again.Unread);
    }

    [Fact]
    public async Task A_DM_or_SAY_cannot_claim_another_sender_or_its_own_seq_and_time()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        server.AddUser("carol", "pw");
        await JoinAsync(alice, "#x");
        await JoinAsync(bob, "#x");
        await alice.ExpectAsync<RoomNotice>();

        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await alice.SendAsync(new Dm("bob", "trust me", "f1", From: "carol", Seq: 424242, SentAt: 1));
        var dm = await bob.ExpectAsync<Dm>();
        var sent = await alice.ExpectAsync<DmSent>();
        Assert.Equal("alice", dm.From);
        Assert.Equal(sent.Seq, dm.Seq);
        Assert.NotEqual(424242L, dm.Seq!.Value);
        Assert.True(dm.SentAt >= before);

        await alice.SendAsync(new Say("#x", "trust me too", From: "carol", SentAt: 1));
        var said = await bob.ExpectAsync<Say>();
        Assert.Equal("alice", said.From);
        Assert.True(said.SentAt >= before);
    }

    [Fact]
    public async Task DM_and_room_message_content_never_appears_in_the_server_log()
    {
        const string Secret = "the-vault-code-is-4711";
        await using var server = await InProcessServer.StartAsync(o => o with { MaxOfflineMessages = 1 });
        server.AddUser("carol", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await SendDmAsync(alice, "bob", Secret + " live", "s1");
        await bob.ExpectAsync<Dm>();
        await SendDmAsync(alice, "carol", Secret + " offline", "s2");
        await ExpectErrorAsync(alice, new Dm("carol", Secret + " refused", "s3"), ErrorCodes.QueueFull);
        await JoinAsync(alice, "#x");
        await JoinAsync(bob, "#x");
        await alice.ExpectAsync<RoomNotice>();
        await alice.SendAsync(new Say("#x", Secret + " in a room"));
        await bob.ExpectAsync<Say>();
        await using var carol = await server.LogOnAsync("carol", "pw");
        var (replayed, _) = await TalkAsync(carol, "alice");
        Assert.Single(replayed);

        Assert.NotEmpty(server.Logs.Entries);
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains(Secret, StringComparison.Ordinal));
    }
}
