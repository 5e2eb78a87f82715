using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Parley.Storage;
using Parley.Tests.Support;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #5's tests with real <c>parley server</c> and <c>parley chat</c> processes over loopback: the server (its
/// database, its logs and the TCP bytes a tap between it and the clients captures) never sees 1:1 message text; a
/// body the server altered, wrote or re-addressed is refused with a warning; a fresh client directory reads the whole
/// history. <see cref="KeyTrustScenarioTests"/> has the tests of trust: key changes, safety numbers, the contact book.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class EncryptionScenarioTests
{
    // No room: only the lines under test are printed.
    private const string NoRoom = "--room=none";

    private const string FailedCheck = "Warning: a message from alice failed its end-to-end check and is not shown: it was altered, or it was not sent to you by alice.";

    [Fact]
    public async Task Session_chats_direct_messages_offline_delivery_and_history_never_show_their_text_to_the_server()
    {
        await using var tap = TcpTap.Start();
        await using var server = await ServerProcess.StartAsync("--advertise-tcp-port", tap.Port.ToString(CultureInfo.InvariantCulture));
        tap.ForwardTo(TcpPortOf(server));
        var run = Guid.NewGuid().ToString("N")[..12];
        string[] markers = [$"chat-a2b-{run}", $"chat-b2a-{run}", $"dm-live-a2b-{run}", $"dm-live-b2a-{run}", $"dm-offline-a2b-{run}"];
        var (chatToBob, chatToAlice, dmToBob, dmToAlice, offlineToBob) = (markers[0], markers[1], markers[2], markers[3], markers[4]);

        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
        await using var bob = await LogOnWithoutRoomAsync(server, "bob");

        // A seed 001 session, both directions.
        await alice.SendLineAsync("Chat bob");
        await alice.ExpectLineAsync("Chat started");
        await bob.ExpectLineAsync("Chat started");
        await alice.SendLineAsync(chatToBob);
        await bob.ExpectMessageAsync($"alice: {chatToBob}");
        await bob.SendLineAsync(chatToAlice);
        await alice.ExpectMessageAsync($"bob: {chatToAlice}");
        await alice.SendLineAsync("End chat");
        await alice.ExpectLineAsync("Chat ended");
        await bob.ExpectLineAsync("Chat ended");

        // Live DMs both ways, then one to bob while he is offline.
        await alice.SendLineAsync($"/dm bob {dmToBob}");
        await alice.ExpectLineAsync("Message sent");
        await bob.ExpectMessageAsync($"[DM] alice: {dmToBob}");
        await bob.SendLineAsync($"/dm alice {dmToAlice}");
        await bob.ExpectLineAsync("Message sent");
        await alice.ExpectMessageAsync($"[DM] bob: {dmToAlice}");
        await bob.SendLineAsync("Log off");
        await bob.ExpectLineAsync("Logged off");
        await server.Process.WaitForStderrAsync(l => l.Contains("bob disconnected", StringComparison.Ordinal));
        await SendOfflineAsync(alice, "bob", offlineToBob);

        // Offline delivery and the conversation view.
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await bob.ExpectLineAsync("You have 2 unread messages: alice (2)");
        await bob.SendLineAsync("/talk alice");
        await bob.ExpectMessageAsync($"alice: {dmToBob}");
        await bob.ExpectMessageAsync($"bob: {dmToAlice}");
        await bob.ExpectMessageAsync($"alice: {offlineToBob}");
        await bob.ExpectLineAsync("Conversation with alice: 3 messages, 2 unread. Type to send; !BACK returns to the menu.");
        await bob.SendLineAsync("/back");
        await bob.ExpectLineAsync("Left the conversation with alice");

        // History recall, on both sides: each reads their own messages back too.
        foreach (var (client, peer) in new[] { (bob, "alice"), (alice, "bob") })
        {
            await client.SendLineAsync($"History {peer}");
            await ExpectHistoryAsync(client, ("alice", chatToBob), ("bob", chatToAlice));
            await client.ExpectLineAsync($"End of history with {peer} (2 messages)");
        }

        // Everything the server holds is an envelope: five rows, and not one byte of text among them.
        using (var db = server.OpenDatabase())
        {
            Assert.Equal(new[] { ("chat", 2L), ("dm", 3L) }, Query(db, "SELECT kind, COUNT(*) FROM messages WHERE body LIKE 'e2e1:%' GROUP BY kind ORDER BY kind;",
                r => (r.GetString(0), r.GetInt64(1))));
            Assert.Equal(5L, Query(db, "SELECT COUNT(*) FROM messages;", r => r.GetInt64(0)).Single());
        }

        // The search itself finds a marker that is only base64-encoded, at every alignment, so the checks below can fail.
        for (var shift = 0; shift < 3; shift++)
        {
            var encoded = "e2e1:" + Convert.ToBase64String([.. new byte[shift + 7], .. Encoding.UTF8.GetBytes(chatToBob), 0]);
            Assert.NotNull(MarkerScan.Find(markers, Encoding.ASCII.GetBytes(encoded)));
        }

        MarkerScan.AssertNotInDatabase(server.DataDirectory, markers);
        await alice.SendLineAsync("/quit");
        await bob.SendLineAsync("/quit");
        Assert.Equal(0, await alice.WaitForExitAsync());
        Assert.Equal(0, await bob.WaitForExitAsync());
        Assert.Equal(0, await server.Process.TerminateAsync());

        // After shutdown too (the write-ahead log is folded into the database), and in everything the server printed.
        MarkerScan.AssertNotInDatabase(server.DataDirectory, markers);
        MarkerScan.AssertNotIn(markers, Encoding.UTF8.GetBytes(string.Join('\n', server.Process.Lines)), "the server's stdout");
        MarkerScan.AssertNotIn(markers, Encoding.UTF8.GetBytes(server.Process.Stderr), "the server's stderr");

        // On the wire: both clients' links went through the tap (and across the re-log-on), and none of it shows a marker.
        Assert.True(tap.Connections >= 3, $"only {tap.Connections} connections went through the tap");
        var captures = tap.Captures;
        Assert.True(captures.Sum(c => c.Length) > 5_000, $"the tap captured only {captures.Sum(c => c.Length)} bytes");
        foreach (var capture in captures)
        {
            MarkerScan.AssertNotIn(markers, capture, "the captured TCP bytes");
        }
    }

    [Fact]
    public async Task A_stored_direct_message_the_server_altered_or_wrote_is_refused_with_a_warning()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "bob");
        const string Genuine = "genuine 5b1e";
        const string Altered = "altered on the server 5b1e";
        const string Forged = "forged by the server 5b1e";
        await using (var alice = await LogOnWithoutRoomAsync(server, "alice"))
        {
            await SendOfflineAsync(alice, "bob", Genuine);
            await SendOfflineAsync(alice, "bob", Altered);
            await SendOfflineAsync(alice, "bob", "to be replaced");
        }

        // The operator edits the stored rows: one base64 character of the second envelope, the third replaced by text.
        using (var db = server.OpenDatabase())
        {
            var rows = Query(db, "SELECT id, body FROM messages WHERE kind = 'dm' ORDER BY id;", r => (Id: r.GetInt64(0), Body: r.GetString(1)));
            Assert.Equal(3, rows.Count);
            Assert.All(rows, row => Assert.StartsWith("e2e1:", row.Body, StringComparison.Ordinal));
            var body = rows[1].Body.ToCharArray();
            var middle = body.Length / 2;
            body[middle] = body[middle] == 'A' ? 'B' : 'A';
            SetBody(db, rows[1].Id, new string(body));
            SetBody(db, rows[2].Id, Forged);
        }

        await using var bob = await server.StartClientAsync("bob", "bob-password", NoRoom);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await bob.ExpectLineAsync("You have 3 unread messages: alice (3)");
        await bob.SendLineAsync("/talk alice");
        await bob.ExpectMessageAsync($"alice: {Genuine}");
        await bob.ExpectLineAsync(FailedCheck);
        await bob.ExpectLineAsync("Warning: a message from alice was not end-to-end encrypted, so the server could have written it; it is not shown.");
        await bob.ExpectLineAsync("Conversation with alice: 3 messages, 3 unread. Type to send; !BACK returns to the menu.");
        Assert.Single(bob.Lines, l => l.Contains("5b1e", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_direct_message_the_server_re_addressed_to_someone_else_fails_their_check()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "bob");
        await LogOnOnceAsync(server, "carol");
        const string ForCarol = "really for carol 91c4";
        const string ForBob = "only for bob 91c4";
        await using (var alice = await LogOnWithoutRoomAsync(server, "alice"))
        {
            await SendOfflineAsync(alice, "carol", ForCarol);
            await SendOfflineAsync(alice, "bob", ForBob);
        }

        // The server moves alice's DM to bob into her conversation with carol, as MessageStore keys it.
        using (var db = server.OpenDatabase())
        {
            var id = Query(db, "SELECT id FROM messages WHERE kind = 'dm' AND recipient = 'bob';", r => r.GetInt64(0)).Single();
            using var command = db.CreateCommand();
            command.CommandText = "UPDATE messages SET recipient = 'carol', conversation = $c WHERE id = $id;";
            command.Parameters.AddWithValue("$c", MessageStore.ConversationKey("alice", "carol"));
            command.Parameters.AddWithValue("$id", id);
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        await using var carol = await server.StartClientAsync("carol", "carol-password", NoRoom);
        await carol.SendLineAsync("Log on");
        await carol.ExpectLineAsync("Connected");
        await carol.ExpectLineAsync("You have 2 unread messages: alice (2)");
        await carol.SendLineAsync("/talk alice");
        await carol.ExpectMessageAsync($"alice: {ForCarol}");
        await carol.ExpectLineAsync(FailedCheck);
        await carol.ExpectLineAsync("Conversation with alice: 2 messages, 2 unread. Type to send; !BACK returns to the menu.");
        Assert.DoesNotContain(carol.Lines, l => l.Contains(ForBob, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_user_on_a_fresh_client_directory_reads_the_whole_history()
    {
        await using var server = await ServerProcess.StartAsync();
        const string Hello = "session hello 3d8f";
        const string Reply = "session reply 3d8f";
        const string Note = "dm note 3d8f";
        const string Answer = "dm answer 3d8f";
        await using var bob = await LogOnWithoutRoomAsync(server, "bob");
        await using (var alice = await LogOnWithoutRoomAsync(server, "alice"))
        {
            await alice.SendLineAsync("Chat bob");
            await alice.ExpectLineAsync("Chat started");
            await bob.ExpectLineAsync("Chat started");
            await alice.SendLineAsync(Hello);
            await bob.ExpectMessageAsync($"alice: {Hello}");
            await bob.SendLineAsync(Reply);
            await alice.ExpectMessageAsync($"bob: {Reply}");
            await alice.SendLineAsync("End chat");
            await alice.ExpectLineAsync("Chat ended");
            await bob.ExpectLineAsync("Chat ended");
            await alice.SendLineAsync($"/dm bob {Note}");
            await alice.ExpectLineAsync("Message sent");
            await bob.ExpectMessageAsync($"[DM] alice: {Note}");
            await bob.SendLineAsync($"/dm alice {Answer}");
            await bob.ExpectLineAsync("Message sent");
            await alice.ExpectMessageAsync($"[DM] bob: {Answer}");
            await alice.SendLineAsync("/quit");
            Assert.Equal(0, await alice.WaitForExitAsync());
        }

        // Another machine: an empty client directory, so alice's key comes only from her backup on the server.
        var fresh = Directory.CreateTempSubdirectory("parley-fresh-client-").FullName;
        try
        {
            await using var again = await server.StartClientAsync("alice", "alice-password", NoRoom, "--state-dir", fresh);
            await again.SendLineAsync("Log on");
            await again.ExpectLineAsync("Connected");
            await again.ExpectLineAsync("You have 1 unread message: bob (1)");

            // A history the server refuses first (no HISTORY_END) must not confuse the next one's own messages.
            await again.SendLineAsync("History no,such");
            await again.ExpectLineAsync($"Error: {Parley.Protocol.ClientIds.Rule}");
            await again.SendLineAsync("History bob");
            await ExpectHistoryAsync(again, ("alice", Hello), ("bob", Reply));
            await again.ExpectLineAsync("End of history with bob (2 messages)");
            await again.SendLineAsync("/talk bob");
            await again.ExpectMessageAsync($"alice: {Note}");
            await again.ExpectMessageAsync($"bob: {Answer}");
            await again.ExpectLineAsync("Conversation with bob: 2 messages, 1 unread. Type to send; !BACK returns to the menu.");
            await again.SendLineAsync("/quit");
            Assert.Equal(0, await again.WaitForExitAsync());

            // It was that directory the client used (and it trusted bob's key there on first use).
            Assert.Contains("bob", await File.ReadAllTextAsync(server.ContactsFile(fresh, "alice")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }

    /// <summary>Seed 001's history lines, in order: one session, these senders and texts.</summary>
    private static async Task ExpectHistoryAsync(ParleyProcess client, params (string From, string Text)[] expected)
    {
        var sessions = new HashSet<string>();
        foreach (var (from, text) in expected)
        {
            var line = await client.ExpectLineAsync(HistoryLine());
            Assert.Equal((from, text), (line.Groups["from"].Value, line.Groups["text"].Value));
            sessions.Add(line.Groups["session"].Value);
        }

        Assert.Single(sessions);
    }

    /// <summary>The server's real TCP port, from its ready line (clients are told another when a tap sits in front).</summary>
    private static int TcpPortOf(ServerProcess server) =>
        int.Parse(ReadyTcpPort().Match(server.Process.Lines[0]).Groups[1].Value, CultureInfo.InvariantCulture);

    private static List<T> Query<T>(SqliteConnection db, string sql, Func<SqliteDataReader, T> read) => OperatorDatabase.Query(db, sql, read);

    private static void SetBody(SqliteConnection db, long id, string body)
    {
        using var command = db.CreateCommand();
        command.CommandText = "UPDATE messages SET body = $body WHERE id = $id;";
        command.Parameters.AddWithValue("$body", body);
        command.Parameters.AddWithValue("$id", id);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    // Seed 001 "Chat History": <session_id> <from: sending client> <chat message>, after seed 004's time.
    [GeneratedRegex("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} (?<session>[0-9a-f]{8}) from: (?<from>\\S+) (?<text>.*)$")]
    private static partial Regex HistoryLine();

    [GeneratedRegex(@" and tcp 127\.0\.0\.1:(\d+);")]
    private static partial Regex ReadyTcpPort();
}
