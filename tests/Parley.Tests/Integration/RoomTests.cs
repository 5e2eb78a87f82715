using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;
using static Parley.Tests.Support.MessagingSteps;

namespace Parley.Tests.Integration;

/// <summary>Issue #4: rooms — joins, SAY relayed to the other members and never stored, notices, limits, ROOMS.</summary>
public sealed class RoomTests
{
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
}
