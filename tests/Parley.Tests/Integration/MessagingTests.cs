using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>Issue #4: direct messages (live, offline, unread counts, the offline queue's bound) and rooms.</summary>
public sealed class MessagingTests
{
    /// <summary>Rows in the messages table, of one kind ("dm", "chat") or of every kind.</summary>
    private static long StoredRows(InProcessServer server, string? kind = null)
    {
        using var connection = server.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM messages WHERE $kind IS NULL OR kind = $kind;";
        command.Parameters.AddWithValue("$kind", (object?)kind ?? DBNull.Value);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Sends a DM and returns the server's confirmation (the DM is durable once it arrives).</summary>
    private static async Task<DmSent> SendDmAsync(ParleyConnection from, string to, string message, string id)
    {
        await from.SendAsync(new Dm(to, message, id));
        var sent = await from.ExpectAsync<DmSent>();
        Assert.Equal(id, sent.Id);
        return sent;
    }

    /// <summary>
    /// TALK as the reference client does it: the replayed DMs (oldest first) and the TALK_END that closes the replay,
    /// then READ up to the newest DM from the peer, since the replay has been shown.
    /// </summary>
    private static async Task<(List<Dm> Replayed, TalkEnd End)> TalkAsync(ParleyConnection connection, string peer, int limit = 50)
    {
        var (replayed, end) = await ReplayAsync(connection, peer, limit);
        var last = replayed.Where(d => !string.Equals(d.From, connection.ClientId, StringComparison.OrdinalIgnoreCase)).Select(d => d.Seq ?? 0).DefaultIfEmpty().Max();
        if (last > 0)
        {
            await connection.SendAsync(new Read(end.ClientId, last));
        }

        return (replayed, end);
    }

    /// <summary>TALK alone: the replayed DMs and TALK_END, without marking anything read.</summary>
    private static async Task<(List<Dm> Replayed, TalkEnd End)> ReplayAsync(ParleyConnection connection, string peer, int limit = 50)
    {
        await connection.SendAsync(new Talk(peer, limit));
        var replayed = new List<Dm>();
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (true)
        {
            switch (await connection.Events.ReadAsync(timeout.Token))
            {
                case Dm dm:
                    replayed.Add(dm);
                    break;
                case TalkEnd end:
                    return (replayed, end);
                case var other:
                    Assert.Fail($"unexpected {other} during a TALK replay");
                    break;
            }
        }
    }

    private static async Task<Joined> JoinAsync(ParleyConnection connection, string room)
    {
        await connection.SendAsync(new Join(room));
        return await connection.ExpectAsync<Joined>();
    }

    private static async Task<Error> ExpectErrorAsync(ParleyConnection connection, ParleyMessage request, string code)
    {
        await connection.SendAsync(request);
        var error = await connection.ExpectAsync<Error>();
        Assert.Equal(code, error.Code);
        return error;
    }

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

    [Fact]
    public async Task Room_members_see_joins_and_every_other_member_gets_a_SAY_which_is_never_stored()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");
        await using var dave = await server.AddAndLogOnAsync("dave");

        Assert.Equal(new Joined("#lounge", 1), await JoinAsync(alice, "#Lounge"));
        Assert.Equal(new Joined("#lounge", 2), await JoinAsync(bob, "lounge"));
        Assert.Equal(new RoomNotice("#lounge", "bob", RoomEvents.Joined), await alice.ExpectAsync<RoomNotice>());
        Assert.Equal(new Joined("#lounge", 3), await JoinAsync(carol, "#LOUNGE"));
        Assert.Equal(new RoomNotice("#lounge", "carol", RoomEvents.Joined), await alice.ExpectAsync<RoomNotice>());
        Assert.Equal(new RoomNotice("#lounge", "carol", RoomEvents.Joined), await bob.ExpectAsync<RoomNotice>());
        Assert.Equal(new Joined("#elsewhere", 1), await JoinAsync(dave, "#elsewhere"));

        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await alice.SendAsync(new Say("#lounge", "hello room"));
        var atBob = await bob.ExpectAsync<Say>();
        var atCarol = await carol.ExpectAsync<Say>();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(("#lounge", "hello room", "alice"), (atBob.Room, atBob.Message, atBob.From));
        Assert.Equal(atBob, atCarol);
        Assert.InRange(atBob.SentAt!.Value, before, after);

        await bob.SendAsync(new Say("#lounge", "hi alice"));
        Assert.Equal(("hi alice", "bob"), ((await alice.ExpectAsync<Say>()).Message, (await carol.ExpectAsync<Say>()).From));

        // The sender gets nothing back, a member of another room hears nothing, and nothing reached the database.
        await alice.ExpectNothingPendingAsync();
        await bob.ExpectNothingPendingAsync();
        await carol.ExpectNothingPendingAsync();
        await dave.ExpectNothingPendingAsync();
        Assert.Equal(0, StoredRows(server));
        var (replayed, end) = await TalkAsync(alice, "bob");
        Assert.Empty(replayed);
        Assert.Equal(0, end.Count);
    }

    [Fact]
    public async Task Members_are_told_when_someone_parts_logs_off_or_drops_and_a_parted_member_may_not_speak()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var carol = await server.AddAndLogOnAsync("carol");
        var dave = await server.AddAndLogOnAsync("dave");
        await JoinAsync(alice, "#x");
        foreach (var connection in new[] { bob, carol, dave })
        {
            await JoinAsync(connection, "#x");
        }

        // Drain the join notices each member saw of those who came after it.
        for (var i = 0; i < 3; i++)
        {
            await alice.ExpectAsync<RoomNotice>();
        }

        for (var i = 0; i < 2; i++)
        {
            await bob.ExpectAsync<RoomNotice>();
        }

        await carol.ExpectAsync<RoomNotice>();

        await bob.SendAsync(new Part("#X"));
        Assert.Equal(new Parted("#x"), await bob.ExpectAsync<Parted>());
        Assert.Equal(new RoomNotice("#x", "bob", RoomEvents.Left), await alice.ExpectAsync<RoomNotice>());
        Assert.Equal(new RoomNotice("#x", "bob", RoomEvents.Left), await carol.ExpectAsync<RoomNotice>());
        Assert.Equal(new RoomNotice("#x", "bob", RoomEvents.Left), await dave.ExpectAsync<RoomNotice>());
        await ExpectErrorAsync(bob, new Say("#x", "am I still here?"), ErrorCodes.NotInRoom);
        await ExpectErrorAsync(bob, new Part("#x"), ErrorCodes.NotInRoom);

        await carol.LogOffAsync();
        Assert.Equal(new RoomNotice("#x", "carol", RoomEvents.Disconnected), await alice.ExpectAsync<RoomNotice>());
        Assert.Equal(new RoomNotice("#x", "carol", RoomEvents.Disconnected), await dave.ExpectAsync<RoomNotice>());

        await dave.DisposeAsync(); // the connection drops without LOG_OFF
        Assert.Equal(new RoomNotice("#x", "dave", RoomEvents.Disconnected), await alice.ExpectAsync<RoomNotice>());

        // Alice is alone now; what she says reaches nobody, and bob (who parted) is not told of anything.
        await alice.SendAsync(new Say("#x", "anyone?"));
        await alice.ExpectNothingPendingAsync();
        await bob.ExpectNothingPendingAsync();
        await bob.SendAsync(new RoomsReq());
        Assert.Equal(new RoomInfo("#x", 1, false), Assert.Single((await bob.ExpectAsync<RoomList>()).Rooms));
    }

    [Fact]
    public async Task Room_limits_give_ROOM_FULL_and_TOO_MANY_ROOMS_and_the_others_hear_nothing()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxRoomMembers = 2, MaxRoomsPerClient = 1, MaxRooms = 2 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");
        await using var dave = await server.AddAndLogOnAsync("dave");

        await JoinAsync(alice, "#a");
        await JoinAsync(bob, "#a");
        await alice.ExpectAsync<RoomNotice>();
        await ExpectErrorAsync(carol, new Join("#a"), ErrorCodes.RoomFull);
        await ExpectErrorAsync(alice, new Join("#b"), ErrorCodes.TooManyRooms);

        // Joining a room one is already in is not a second room.
        Assert.Equal(new Joined("#a", 2), await JoinAsync(alice, "#A"));

        // MaxRooms: #a and #c exist, so nobody may create a third.
        await JoinAsync(carol, "#c");
        await ExpectErrorAsync(dave, new Join("#d"), ErrorCodes.TooManyRooms);
        await alice.ExpectNothingPendingAsync();
        await bob.ExpectNothingPendingAsync();

        // Leaving frees places: alice leaves #a for #c; dave may then join #a.
        await alice.SendAsync(new Part("#a"));
        await alice.ExpectAsync<Parted>();
        await bob.ExpectAsync<RoomNotice>();
        Assert.Equal(new Joined("#c", 2), await JoinAsync(alice, "#c"));
        Assert.Equal(new Joined("#a", 2), await JoinAsync(dave, "#a"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("#")]
    [InlineData("#two words")]
    [InlineData("#caf\u00e9")]
    [InlineData("##double")]
    [InlineData("#abcdefghijklmnopqrstuvwxyz0123456")] // 33 characters after '#'
    public async Task A_join_with_an_invalid_room_name_gets_INVALID_ROOM(string room)
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await ExpectErrorAsync(alice, new Join(room), ErrorCodes.InvalidRoom);
        await alice.SendAsync(new RoomsReq());
        Assert.Empty((await alice.ExpectAsync<RoomList>()).Rooms);
    }

    [Fact]
    public async Task Saying_in_a_room_not_joined_gets_NOT_IN_ROOM_and_reaches_no_one()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxMessageBytes = 100 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await JoinAsync(bob, "#private");

        await ExpectErrorAsync(alice, new Say("#private", "let me in"), ErrorCodes.NotInRoom);
        await ExpectErrorAsync(alice, new Say("#nowhere", "hello?"), ErrorCodes.NotInRoom);
        await ExpectErrorAsync(alice, new Part("#private"), ErrorCodes.NotInRoom);
        await bob.ExpectNothingPendingAsync();

        await JoinAsync(alice, "#private");
        await bob.ExpectAsync<RoomNotice>();
        await ExpectErrorAsync(alice, new Say("#private", new string('x', 101)), ErrorCodes.MessageTooLarge);
        await bob.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task ROOMS_lists_the_largest_rooms_with_member_counts_and_whether_you_are_in_them()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxRoomsListed = 2 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");

        foreach (var (connection, room) in new[] { (alice, "#big"), (bob, "#big"), (carol, "#big"), (alice, "#mid"), (bob, "#mid"), (carol, "#solo") })
        {
            await connection.SendAsync(new Join(room));
            await SkipNoticesAsync<Joined>(connection);
        }

        await alice.SendAsync(new RoomsReq());
        var list = await SkipNoticesAsync<RoomList>(alice);
        Assert.Equal([new RoomInfo("#big", 3, true), new RoomInfo("#mid", 2, true)], list.Rooms);
        Assert.True(list.Truncated);

        await carol.SendAsync(new RoomsReq());
        list = await SkipNoticesAsync<RoomList>(carol);
        Assert.Equal([new RoomInfo("#big", 3, true), new RoomInfo("#mid", 2, false)], list.Rooms);

        // A room exists while it has members: once carol leaves #solo it is gone and the list fits.
        await carol.SendAsync(new Part("#solo"));
        await carol.ExpectAsync<Parted>();
        await carol.SendAsync(new RoomsReq());
        list = await carol.ExpectAsync<RoomList>();
        Assert.Equal([new RoomInfo("#big", 3, true), new RoomInfo("#mid", 2, false)], list.Rooms);
        Assert.False(list.Truncated);
    }

    /// <summary>The next <typeparamref name="T"/>, past any ROOM_NOTICEs of joins that came before it.</summary>
    private static async Task<T> SkipNoticesAsync<T>(ParleyConnection connection)
        where T : ParleyMessage
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (true)
        {
            var message = await connection.Events.ReadAsync(timeout.Token);
            if (message is not RoomNotice)
            {
                return Assert.IsType<T>(message);
            }
        }
    }
}
