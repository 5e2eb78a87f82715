using System.Text.RegularExpressions;
using Parley.Tests.Support;
using static Parley.Tests.Support.ScenarioSteps;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// Issue #5's trust tests with real <c>parley server</c> and <c>parley chat</c> processes: a changed key is warned about
/// and holds messages until accepted; both users see one safety number; nobody is sent a message without a key; a
/// damaged contact book turns encryption off loudly. <see cref="EncryptionScenarioTests"/> has what the server sees.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class KeyTrustScenarioTests
{
    // No room: only the lines under test are printed.
    private const string NoRoom = "--room=none";

    [Fact]
    public async Task A_changed_key_is_warned_about_and_holds_messages_until_the_user_accepts_it()
    {
        await using var server = await ServerProcess.StartAsync();
        await LogOnOnceAsync(server, "carol");
        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
        var bob = await LogOnWithoutRoomAsync(server, "bob");
        await using (bob)
        {
            // First use: alice's client records bob's key in her state directory.
            await alice.SendLineAsync("/dm bob before the reset");
            await alice.ExpectLineAsync("Message sent");
            await bob.ExpectMessageAsync("[DM] alice: before the reset");
            await bob.SendLineAsync("/quit");
            Assert.Equal(0, await bob.WaitForExitAsync());
        }

        Assert.Contains("\"bob\"", await File.ReadAllTextAsync(server.ContactsFile(server.ClientStateDirectory, "alice")), StringComparison.Ordinal);
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
        using (var db = server.OpenDatabase())
        {
            Assert.Equal(1L, OperatorDatabase.Query(db, "SELECT COUNT(*) FROM messages WHERE kind = 'dm' AND recipient = 'bob';", r => r.GetInt64(0)).Single());
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
        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
        await using var bob = await LogOnWithoutRoomAsync(server, "bob");

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
        await using var alice = await LogOnWithoutRoomAsync(server, "alice");
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
        var contacts = server.ContactsFile(server.ClientStateDirectory, "alice");
        await File.WriteAllTextAsync(contacts, "{ damaged");

        await using var alice = await LogOnWithoutRoomAsync(server, "alice", add: false);
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
        await using var again = await LogOnWithoutRoomAsync(server, "alice", add: false);
        await again.SendLineAsync("/dm bob now it leaves");
        await again.ExpectLineAsync("Message sent");
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


    // /verify: 60 digits in twelve groups of five, six to a line.
    [GeneratedRegex(@"^  \d{5}( \d{5}){5}$")]
    private static partial Regex SafetyDigits();
}
