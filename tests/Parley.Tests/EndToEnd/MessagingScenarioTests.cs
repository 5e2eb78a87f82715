using System.Text;
using Parley.Tests.Support;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #4 with real <c>parley server</c> and <c>parley chat</c> processes over loopback: direct messages live and
/// offline (seed 002), the conversation view, delivery across a server restart and a client crash, seed 003's
/// PM / DM / EX menu and seed 004's room with timestamps, join and leave notices and EXIT.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class MessagingScenarioTests
{
    // DM scenarios keep their clients out of the default room, so only the lines under test are printed.
    private const string NoRoom = "--room=none";

    [Fact]
    public async Task A_direct_message_to_an_online_user_appears_on_their_screen_at_once()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(server, "alice", NoRoom);
        await using var bob = await LogOnAsync(server, "bob", NoRoom);

        await alice.SendLineAsync("/dm bob Hi Bob, are you there?");
        await alice.ExpectLineAsync("Message sent");
        var at = await bob.ExpectMessageAsync("[DM] alice: Hi Bob, are you there?");

        // Seed 004's "2023-06-25 09:35:24": the server's time of storing, shown in local time.
        Assert.InRange(at, DateTime.Now.AddMinutes(-10), DateTime.Now.AddMinutes(10));

        // Bob answers from seed 002's conversation view, which shows the past message first.
        await bob.SendLineAsync("!TALK alice");
        await bob.ExpectMessageAsync("alice: Hi Bob, are you there?");
        await bob.ExpectLineAsync("Conversation with alice: 1 message, 1 unread. Type to send; !BACK returns to the menu.");
        await bob.SendLineAsync("Yes, here");
        await alice.ExpectMessageAsync("[DM] bob: Yes, here");
        await bob.SendLineAsync("!BACK");
        await bob.ExpectLineAsync("Left the conversation with alice");
    }

    [Fact]
    public async Task Offline_messages_are_counted_at_log_on_per_sender_and_shown_in_the_conversation()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "bob");
        await using (var alice = await LogOnAsync(server, "alice", NoRoom))
        await using (var carol = await LogOnAsync(server, "carol", NoRoom))
        {
            await SendOfflineAsync(alice, "bob", "first from alice");
            await SendOfflineAsync(alice, "bob", "second from alice");
            await SendOfflineAsync(carol, "bob", "one from carol");
        }

        // Seed 002: "his client will print the number of unread messages as well as the names".
        await using var bob = await server.StartClientAsync("bob", "bob-password", NoRoom);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await bob.ExpectLineAsync("You have 3 unread messages: alice (2), carol (1)");

        // "When the user start the chat session, the previous messages are printed on his screen."
        await bob.SendLineAsync("/talk alice");
        await bob.ExpectMessageAsync("alice: first from alice");
        await bob.ExpectMessageAsync("alice: second from alice");
        await bob.ExpectLineAsync("Conversation with alice: 2 messages, 2 unread. Type to send; !BACK returns to the menu.");
        await bob.SendLineAsync("/back");
        await bob.ExpectLineAsync("Left the conversation with alice");

        // Reading alice's conversation marked it read; carol's is still waiting.
        await bob.SendLineAsync("Log off");
        await bob.ExpectLineAsync("Logged off");
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await bob.ExpectLineAsync("You have 1 unread message: carol (1)");
    }

    [Fact]
    public async Task Offline_messages_survive_a_server_restart()
    {
        var server = await ServerProcess.StartAsync();
        ServerProcess restarted;
        try
        {
            await LogOnOnceAsync(server, "bob");
            await using (var alice = await LogOnAsync(server, "alice", NoRoom))
            {
                await SendOfflineAsync(alice, "bob", "kept across a restart");
                await SendOfflineAsync(alice, "bob", "this one too");
            }

            restarted = await server.RestartAsync();
        }
        finally
        {
            await server.DisposeAsync();
        }

        await using var running = restarted;
        await using var bob = await running.StartClientAsync("bob", "bob-password", NoRoom);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await bob.ExpectLineAsync("You have 2 unread messages: alice (2)");
        await bob.SendLineAsync("/talk alice");
        await bob.ExpectMessageAsync("alice: kept across a restart");
        await bob.ExpectMessageAsync("alice: this one too");
        await bob.ExpectLineAsync("Conversation with alice: 2 messages, 2 unread. Type to send; !BACK returns to the menu.");
    }

    [Fact]
    public async Task A_recipient_killed_mid_delivery_sees_every_message_exactly_once_after_logging_on_again()
    {
        const int Count = 40;
        await using var server = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(server, "alice", NoRoom);
        var bob = await LogOnAsync(server, "bob", NoRoom);
        await using (bob)
        {
            // Alice sends a burst; bob's client is killed once the first messages are on its screen.
            var sending = Task.Run(async () =>
            {
                for (var i = 1; i <= Count; i++)
                {
                    await alice.SendLineAsync($"/dm bob message {i:D2}");
                }
            });
            await bob.ExpectMessageAsync("[DM] alice: message 01");
            await bob.KillAsync();
            await sending;
        }

        // Every message was stored before its "Message sent"; bob was online for some and offline for the rest.
        for (var sent = 0; sent < Count;)
        {
            var line = await alice.WaitForLineAsync(_ => true);
            if (line == "Message sent")
            {
                sent++;
            }
            else
            {
                Assert.Equal("bob is offline and will see it at their next log-on.", line);
            }
        }

        await server.Process.WaitForStderrAsync(l => l.Contains("bob disconnected", StringComparison.Ordinal));
        await using var again = await server.StartClientAsync("bob", "bob-password", NoRoom);
        await again.SendLineAsync("Log on");
        await again.ExpectLineAsync("Connected");

        // Nothing was read (bob never opened the conversation), so all of them are unread, and each shows once.
        await again.ExpectLineAsync($"You have {Count} unread messages: alice ({Count})");
        await again.SendLineAsync("/talk alice");
        for (var i = 1; i <= Count; i++)
        {
            await again.ExpectMessageAsync($"alice: message {i:D2}");
        }

        await again.ExpectLineAsync($"Conversation with alice: {Count} messages, {Count} unread. Type to send; !BACK returns to the menu.");
        await again.SendLineAsync("Log off");
        await again.ExpectLineAsync("Logged off");
        await again.SendLineAsync("Log on");
        await again.ExpectLineAsync("Connected");
        await again.SendLineAsync("/list online");
        await again.ExpectLineAsync("Users (2 online, 2 listed):");
    }

    [Fact]
    public async Task A_full_offline_queue_is_told_to_the_sender_and_the_message_is_not_kept()
    {
        await using var server = await ServerProcess.StartAsync("--max-offline-messages", "2");
        await LogOnOnceAsync(server, "bob");
        await using var alice = await LogOnAsync(server, "alice", NoRoom);
        await SendOfflineAsync(alice, "bob", "one");
        await SendOfflineAsync(alice, "bob", "two");
        await alice.SendLineAsync("/dm bob three");
        await alice.ExpectLineAsync("Error: bob already has 2 messages they have not received yet, the most the server keeps; yours was not sent. Try again once they have read them.");

        await using var bob = await server.StartClientAsync("bob", "bob-password", NoRoom);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await bob.ExpectLineAsync("You have 2 unread messages: alice (2)");
    }

    [Fact]
    public async Task A_room_message_reaches_everyone_else_in_the_room_and_is_never_stored()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var ira = await LogOnAsync(server, "Ira");
        await using var sahnawaz = await LogOnAsync(server, "sahnawaz");
        await ira.ExpectLineAsync("New person joined the room. Username: sahnawaz");
        await using var carol = await LogOnAsync(server, "carol");
        await ira.ExpectLineAsync("New person joined the room. Username: carol");
        await sahnawaz.ExpectLineAsync("New person joined the room. Username: carol");

        // Seed 004: after log-on every plain line goes to the room, and the others see it with its time.
        const string Marker = "Hi from Ira 7f3a9c";
        await ira.SendLineAsync(Marker);
        await sahnawaz.ExpectMessageAsync($"Ira: {Marker}");
        await carol.ExpectMessageAsync($"Ira: {Marker}");
        await sahnawaz.SendLineAsync("Hello Ira");
        await ira.ExpectMessageAsync("sahnawaz: Hello Ira");
        await carol.ExpectMessageAsync("sahnawaz: Hello Ira");

        // The sender is not sent its own line: the next thing Ira sees is carol leaving, with seed 004's text.
        await carol.SendLineAsync("EXIT");
        await carol.ExpectLineAsync("Logged off");
        Assert.Equal(0, await carol.WaitForExitAsync());
        await ira.ExpectLineAsync("carol left the server.");
        await sahnawaz.ExpectLineAsync("carol left the server.");

        // 004: the server does not log messages — not in its logs, not in its database.
        await ira.SendLineAsync("/quit");
        await sahnawaz.ExpectLineAsync("Ira left the server.");
        await server.Process.WaitForStderrAsync(l => l.Contains("Ira disconnected", StringComparison.Ordinal));
        MarkerScan.AssertNotIn([Marker], Encoding.UTF8.GetBytes(server.Process.Stderr), "the server's log");
        MarkerScan.AssertNotInDatabase(server.DataDirectory, [Marker]);
    }

    [Fact]
    public async Task Named_rooms_can_be_joined_listed_talked_in_and_left()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(server, "alice");
        await using var bob = await LogOnAsync(server, "bob");
        await alice.ExpectLineAsync("New person joined the room. Username: bob");

        await alice.SendLineAsync("/join #rust");
        await alice.ExpectLineAsync("Joined #rust (1 member)");
        await bob.SendLineAsync("/join Rust");
        await bob.ExpectLineAsync("Joined #rust (2 members)");
        await alice.ExpectLineAsync("[#rust] New person joined the room. Username: bob");

        // The last room joined is where plain lines go; the other rooms' lines are tagged with their name.
        await bob.SendLineAsync("borrow checker question");
        await alice.ExpectMessageAsync("[#rust] bob: borrow checker question");
        await bob.SendLineAsync("/rooms");
        await bob.ExpectLineAsync("Rooms (2):");
        await bob.ExpectLineAsync("  #lobby  2 members (joined)");
        await bob.ExpectLineAsync("  #rust   2 members (joined)");
        await bob.SendLineAsync("/part");
        await bob.ExpectLineAsync("Left #rust");
        await alice.ExpectLineAsync("[#rust] bob left the room.");

        // Back in #lobby, bob's lines reach alice untagged.
        await bob.SendLineAsync("back in the lobby");
        await alice.ExpectMessageAsync("bob: back in the lobby");
    }

    [Fact]
    public async Task Seed_003_menu_PM_DM_and_EX_do_what_the_seed_shows()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var bob = await LogOnAsync(server, "bob");
        await using var joe = await LogOnAsync(server, "joe");
        await bob.ExpectLineAsync("New person joined the room. Username: joe");
        await using var renew = await LogOnAsync(server, "renew");
        await bob.ExpectLineAsync("New person joined the room. Username: renew");
        await joe.ExpectLineAsync("New person joined the room. Username: renew");

        // PM: "public message to all active users" — everyone online but the sender.
        await renew.SendLineAsync("PM");
        await renew.ExpectLineAsync("Message:");
        await renew.SendLineAsync("Hello guys");
        await renew.ExpectLineAsync("Message sent");
        await bob.ExpectMessageAsync("renew: Hello guys");
        await joe.ExpectMessageAsync("renew: Hello guys");

        // DM: the list of active users, "To:", "Enter message:", then "Message sent".
        await renew.SendLineAsync("DM");
        await renew.ExpectLineAsync("Select a user to send a message to:");
        await renew.ExpectLineAsync("        bob");
        await renew.ExpectLineAsync("        joe");
        await renew.ExpectLineAsync("        renew");
        await renew.ExpectLineAsync("To:");
        await renew.SendLineAsync("joe");
        await renew.ExpectLineAsync("Enter message:");
        await renew.SendLineAsync("Hello joe");
        await renew.ExpectLineAsync("Message sent");
        await joe.ExpectMessageAsync("[DM] renew: Hello joe");

        // EX: log out and end the program, with the seed's two lines.
        await renew.SendLineAsync("EX");
        await renew.ExpectLineAsync("Sending logout command to server");
        await renew.ExpectLineAsync("successfully logged out. Closing client side socket and ending program.");
        Assert.Equal(0, await renew.WaitForExitAsync());
        await bob.ExpectLineAsync("renew left the server.");

        // Bob never saw the DM to joe.
        await bob.SendLineAsync("/quit");
        Assert.Equal(0, await bob.WaitForExitAsync());
        Assert.DoesNotContain(bob.Lines, l => l.Contains("Hello joe", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_direct_message_reaches_a_user_in_a_chat_session_as_its_own_line()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var alice = await LogOnAsync(server, "alice", NoRoom);
        await using var bob = await LogOnAsync(server, "bob", NoRoom);
        await using var carol = await LogOnAsync(server, "carol", NoRoom);
        await alice.SendLineAsync("Chat bob");
        await alice.ExpectLineAsync("Chat started");
        await bob.ExpectLineAsync("Chat started");

        // Carol cannot join their exclusive chat (seed 001) but can still reach bob directly.
        await carol.SendLineAsync("/dm bob ping from carol");
        await carol.ExpectLineAsync("Message sent");
        await bob.ExpectMessageAsync("[DM] carol: ping from carol");

        // The session is undisturbed: a plain line is still a CHAT to alice.
        await bob.SendLineAsync("still with you");
        await alice.ExpectMessageAsync("bob: still with you");
        await bob.SendLineAsync("/talk carol");
        await bob.ExpectLineAsync("You are chatting with alice; type \"End chat\" first.");
    }

    private static Task<ParleyProcess> LogOnAsync(ServerProcess server, string clientId, params string[] extra) =>
        ScenarioSteps.LogOnAsync(server, clientId, add: true, extra);

}
