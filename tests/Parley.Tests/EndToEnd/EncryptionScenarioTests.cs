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
/// history; a changed key is warned about and holds messages until accepted; both users see one safety number.
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

        await using var alice = await LogOnAsync(server, "alice");
        await using var bob = await LogOnAsync(server, "bob");

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
        using (var db = OpenDatabase(server))
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
        await using (var alice = await LogOnAsync(server, "alice"))
        {
            await SendOfflineAsync(alice, "bob", Genuine);
            await SendOfflineAsync(alice, "bob", Altered);
            await SendOfflineAsync(alice, "bob", "to be replaced");
        }

        // The operator edits the stored rows: one base64 character of the second envelope, the third replaced by text.
        using (var db = OpenDatabase(server))
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
        await using (var alice = await LogOnAsync(server, "alice"))
        {
            await SendOfflineAsync(alice, "carol", ForCarol);
            await SendOfflineAsync(alice, "bob", ForBob);
        }

        // The server moves alice's DM to bob into her conversation with carol, as MessageStore keys it.
        using (var db = OpenDatabase(server))
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
        await using var bob = await LogOnAsync(server, "bob");
        await using (var alice = await LogOnAsync(server, "alice"))
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
            Assert.Contains("bob", await File.ReadAllTextAsync(ContactsFile(fresh, server, "alice")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }

    [Fact]
    public async Task A_changed_key_is_warned_about_and_holds_messages_until_the_user_accepts_it()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "carol");
        await using var alice = await LogOnAsync(server, "alice");
        var bob = await LogOnAsync(server, "bob");
        await using (bob)
        {
            // First use: alice's client records bob's key in her state directory.
            await alice.SendLineAsync("/dm bob before the reset");
            await alice.ExpectLineAsync("Message sent");
            await bob.ExpectMessageAsync("[DM] alice: before the reset");
            await bob.SendLineAsync("/quit");
            Assert.Equal(0, await bob.WaitForExitAsync());
        }

        Assert.Contains("\"bob\"", await File.ReadAllTextAsync(ContactsFile(server.ClientStateDirectory, server, "alice")), StringComparison.Ordinal);
        await server.Process.WaitForStderrAsync(l => l.Contains("bob disconnected", StringComparison.Ordinal));

        // The administrator resets bob's password: his backup no longer opens, so his client makes and publishes a new key
        // (which is what a server substituting its own key for bob's would look like to alice).
        var (exit, lines, stderr) = await ParleyProcess.RunAsync("bob-new-password",
            "user", "reset-password", "bob", "--password-stdin", "--data-dir", server.DataDirectory, "--scram-iterations", "4096");
        Assert.True(exit == 0, stderr);
        Assert.Equal(["Reset the password of bob"], lines);
        await using var newBob = await server.StartClientAsync("bob", "bob-new-password", NoRoom);
        await newBob.SendLineAsync("Log on");
        await newBob.ExpectLineAsync("Connected");
        await newBob.ExpectLineAsync("Warning: Your encryption key backup cannot be opened with this password (was it reset by the administrator?). " +
            "A new key was made: messages sent to your old key cannot be read, and your contacts will be told your key changed.");
        await newBob.ExpectLineAsync("You have 1 unread message: alice (1)");

        // alice, still logged on, is told at once (KEYS_CHANGED): she has dealt with bob in this log-on. The next
        // messages to bob are held rather than sealed to the key bob no longer has.
        await alice.ExpectLineAsync("*** WARNING: bob's encryption key has CHANGED. ***");
        await alice.ExpectLineAsync("Someone may be impersonating bob, or bob lost their key (a password reset).");
        await alice.ExpectLineAsync("Messages to bob are held. Compare safety numbers with /verify bob, then /accept bob to send them.");
        await alice.SendLineAsync("/dm bob held one 77e2");
        await alice.ExpectLineAsync("Held, not sent: bob's key changed. /verify bob, then /accept bob to send.");
        await alice.SendLineAsync("/dm bob held two 77e2");
        await alice.ExpectLineAsync("Held, not sent: bob's key changed. /verify bob, then /accept bob to send.");

        // Nothing reached the server: a DM to carol sent after them is stored (and confirmed) after anything before it.
        await SendOfflineAsync(alice, "carol", "sent after the held ones");
        using (var db = OpenDatabase(server))
        {
            Assert.Equal(1L, Query(db, "SELECT COUNT(*) FROM messages WHERE kind = 'dm' AND recipient = 'bob';", r => r.GetInt64(0)).Single());
        }

        Assert.DoesNotContain(newBob.Lines, l => l.Contains("77e2", StringComparison.Ordinal));
        await alice.SendLineAsync("/verify bob");
        await alice.ExpectLineAsync("Safety number for you and bob:");
        await alice.ExpectLineAsync(SafetyDigits());
        await alice.ExpectLineAsync(SafetyDigits());
        await alice.ExpectLineAsync("bob's key CHANGED since you first saw it. If bob reads the same number (/verify alice), type /verify bob yes.");

        // Accepting the new key sends what was held, sealed to it: bob reads both.
        await alice.SendLineAsync("/accept bob");
        await alice.ExpectLineAsync("You now trust bob's current key.");
        await alice.ExpectLineAsync("Message sent");
        await alice.ExpectLineAsync("Message sent");
        await newBob.ExpectMessageAsync("[DM] alice: held one 77e2");
        await newBob.ExpectMessageAsync("[DM] alice: held two 77e2");

        // And from now on the new key is simply trusted.
        await alice.SendLineAsync("/dm bob after accepting 77e2");
        await alice.ExpectLineAsync("Message sent");
        await newBob.ExpectMessageAsync("[DM] alice: after accepting 77e2");
    }

    [Fact]
    public async Task Both_users_see_the_same_safety_number_and_can_mark_each_other_verified()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "carol");
        await using var alice = await LogOnAsync(server, "alice");
        await using var bob = await LogOnAsync(server, "bob");

        var seenByAlice = await VerifyAsync(alice, "bob", "Compare it with what bob sees (/verify alice) in person or on a call; if it is the same, type /verify bob yes.");
        var seenByBob = await VerifyAsync(bob, "alice", "Compare it with what alice sees (/verify bob) in person or on a call; if it is the same, type /verify alice yes.");
        Assert.Equal(seenByAlice, seenByBob);

        // Another pair has another number.
        var withCarol = await VerifyAsync(alice, "carol", "Compare it with what carol sees (/verify alice) in person or on a call; if it is the same, type /verify carol yes.");
        Assert.NotEqual(seenByAlice, withCarol);

        // "yes" confirms a number that was shown: bob's has been; a never-shown one is not marked.
        await bob.SendLineAsync("/verify carol yes");
        await bob.ExpectLineAsync("Nothing was marked: type /verify carol to see the current safety number first, then compare it.");
        await alice.SendLineAsync("/verify bob yes");
        await alice.ExpectLineAsync("bob is verified.");
        Assert.Equal(seenByAlice, await VerifyAsync(alice, "bob", "bob is verified."));
    }

    [Fact]
    public async Task A_direct_message_to_a_user_who_never_logged_on_is_refused_for_want_of_a_key()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("bob", "bob-password");
        await using var alice = await LogOnAsync(server, "alice");
        await alice.SendLineAsync("/dm bob are you there?");
        await alice.ExpectLineAsync("bob has no encryption key yet (they have not logged on since signing up); not sent.");
        await alice.SendLineAsync("/dm nobody are you there?");
        await alice.ExpectLineAsync("nobody is not a user here; not sent.");

        // Once bob has logged on (and so has a key), the same message goes.
        await LogOnOnceAsync(server, "bob", add: false);
        await SendOfflineAsync(alice, "bob", "are you there?");
    }

    /// <summary>Adds <paramref name="clientId"/> (password "&lt;id&gt;-password"), starts its client with no room and logs it on.</summary>
    [Fact]
    public async Task A_damaged_contact_book_turns_encryption_off_loudly_and_blocks_a_password_change_that_would_lose_the_key()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "bob");
        await LogOnOnceAsync(server, "alice");
        var contacts = ContactsFile(server.ClientStateDirectory, server, "alice");
        await File.WriteAllTextAsync(contacts, "{ damaged");

        await using var alice = await LogOnAsync(server, "alice", add: false);
        var warning = await alice.ExpectLineAsync(new System.Text.RegularExpressions.Regex(
            @"^Warning: end-to-end encryption is not available \(.*contacts\.json is damaged.*\); chats and direct messages cannot be sent or read\.$"));
        Assert.NotNull(warning);

        await alice.SendLineAsync("/dm bob should not leave");
        await alice.ExpectLineAsync(new System.Text.RegularExpressions.Regex(@"^Not sent: end-to-end encryption is not available \(.*\)\.$"));

        // /passwd would leave the key's backup under the old password: refused, and the old password still works.
        await alice.SendLineAsync("/passwd");
        await alice.SendLineAsync("a-brand-new-password");
        await alice.ExpectLineAsync(new System.Text.RegularExpressions.Regex(@"^Your password was not changed: your encryption key is not unlocked \(.*\), so its backup could not be re-wrapped\.$"));
        Assert.Equal("{ damaged", await File.ReadAllTextAsync(contacts)); // reported, never overwritten
        await alice.SendLineAsync("/quit");
        Assert.Equal(0, await alice.WaitForExitAsync());

        File.Delete(contacts);
        await using var again = await LogOnAsync(server, "alice", add: false);
        await again.SendLineAsync("/dm bob now it leaves");
        await again.ExpectLineAsync("Message sent");
    }

    private static Task<ParleyProcess> LogOnAsync(ServerProcess server, string clientId, bool add = true) =>
        ScenarioSteps.LogOnAsync(server, clientId, add, NoRoom);

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

    /// <summary>/verify <paramref name="peer"/>: its four lines; returns the safety number's two lines of digits.</summary>
    private static async Task<string> VerifyAsync(ParleyProcess client, string peer, string last)
    {
        await client.SendLineAsync($"/verify {peer}");
        await client.ExpectLineAsync($"Safety number for you and {peer}:");
        var first = await client.ExpectLineAsync(SafetyDigits());
        var second = await client.ExpectLineAsync(SafetyDigits());
        await client.ExpectLineAsync(last);
        return first.Value + "\n" + second.Value;
    }

    /// <summary>The server's real TCP port, from its ready line (clients are told another when a tap sits in front).</summary>
    private static int TcpPortOf(ServerProcess server) =>
        int.Parse(ReadyTcpPort().Match(server.Process.Lines[0]).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>Where a client keeps <paramref name="clientId"/>'s trusted contacts for this server (ContactBook's layout).</summary>
    private static string ContactsFile(string stateDirectory, ServerProcess server, string clientId) =>
        Path.Combine(stateDirectory, $"127.0.0.1_{server.UdpPort.ToString(CultureInfo.InvariantCulture)}", clientId, "contacts.json");

    /// <summary>The server's database, opened beside the running server as its operator could.</summary>
    private static SqliteConnection OpenDatabase(ServerProcess server) =>
        OperatorDatabase.Open(Path.Combine(server.DataDirectory, ParleyDatabase.FileName));

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

    // /verify: 60 digits in twelve groups of five, six to a line.
    [GeneratedRegex(@"^  \d{5}( \d{5}){5}$")]
    private static partial Regex SafetyDigits();

    [GeneratedRegex(@" and tcp 127\.0\.0\.1:(\d+);")]
    private static partial Regex ReadyTcpPort();
}
