using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>Issue #3 with real <c>parley</c> processes: what a person sees when signing up, getting locked out, listing users and being removed.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class AccountScenarioTests
{
    // These scenarios are about accounts: their clients stay out of the default room so join notices do not interleave.
    private const string NoRoom = "--room=none";

    [Fact]
    public async Task Sign_up_from_the_client_logs_on_and_the_directory_shows_who_is_online()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("bob", "bob-password");

        // Seed 002: "!signup", then the main menu.
        await using var renew = await server.StartClientAsync("renew", "renew-password", NoRoom);
        await renew.SendLineAsync("!signup");
        await renew.ExpectLineAsync("Signed up as renew.");
        await renew.ExpectLineAsync("Connected");

        // Seed 002: "!LIST" prints the users known to the server.
        await renew.SendLineAsync("!LIST");
        await renew.ExpectLineAsync("Users (1 online, 2 listed):");
        await renew.ExpectLineAsync("  bob    offline");
        await renew.ExpectLineAsync("  renew  online");

        await using var bob = await server.StartClientAsync("bob", "bob-password", NoRoom);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");
        await renew.SendLineAsync("/list");
        await renew.ExpectLineAsync("Users (2 online, 2 listed):");
        await renew.ExpectLineAsync("  bob    online");
        await renew.ExpectLineAsync("  renew  online");

        // 003's DM list: only who is online.
        await bob.SendLineAsync("/list online");
        await bob.ExpectLineAsync("Users (2 online, 2 listed):");

        // The new account survives its first session.
        await renew.SendLineAsync("Log off");
        await renew.ExpectLineAsync("Logged off");
        await renew.SendLineAsync("Log on");
        await renew.ExpectLineAsync("Connected");
    }

    [Fact]
    public async Task A_taken_or_broken_ID_is_refused_with_the_rule_and_the_user_is_back_at_the_menu()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await using var client = await server.StartClientAsync("someone", "some-password", NoRoom);

        await client.SendLineAsync("Sign up Alice");
        await client.ExpectLineAsync("The client ID 'Alice' is already taken (IDs ignore letter case); choose another.");
        await client.ExpectLineAsync("Type \"Sign up <client-id>\" to try another ID, or \"Log on <client-id>\".");
        await client.SendLineAsync("/signup root");
        await client.ExpectLineAsync("The client ID 'root' is reserved; choose another.");
        await client.SendLineAsync("Sign up 2fast");
        await client.ExpectLineAsync("A client ID must start with a letter (A to Z).");

        // Password rules are the client's to check: the server never sees the password.
        await using var weak = await server.StartClientAsync("carol", "short", NoRoom);
        await weak.SendLineAsync("Sign up");
        await weak.ExpectLineAsync("A password must be at least 8 characters long.");
        await using var same = await server.StartClientAsync("dave1234", "DAVE1234", NoRoom);
        await same.SendLineAsync("Sign up");
        await same.ExpectLineAsync("The password must not be the client ID.");

        // Nothing was created by the refusals; the menu still works.
        var list = await ParleyProcess.RunAsync(null, "user", "list", "--data-dir", server.DataDirectory);
        Assert.Equal("1 subscriber", list.Lines[^1]);
        await client.SendLineAsync("Sign up someone");
        await client.ExpectLineAsync("Signed up as someone.");
        await client.ExpectLineAsync("Connected");
    }

    [Fact]
    public async Task A_closed_server_sends_sign_ups_to_the_administrator_and_invites_open_an_invite_only_one()
    {
        await using (var closed = await ServerProcess.StartAsync("--signup", "closed"))
        {
            await using var client = await closed.StartClientAsync("renew", "renew-password", NoRoom);
            await client.SendLineAsync("Sign up");
            await client.ExpectLineAsync("This server does not take sign-ups; ask its administrator for an account.");
        }

        await using var server = await ServerProcess.StartAsync("--signup", "invite");
        var invite = await ParleyProcess.RunAsync(null, "user", "invite", "--data-dir", server.DataDirectory);
        Assert.Equal(0, invite.ExitCode);
        var code = Assert.Single(invite.Lines);
        await using var renew = await server.StartClientAsync("renew", "renew-password", NoRoom);
        await renew.SendLineAsync("Sign up");
        await renew.ExpectLineAsync("This server needs an invite code to sign up: type \"Sign up renew <invite-code>\".");
        await renew.SendLineAsync("Sign up renew WRONG-CODE");
        await renew.ExpectLineAsync("That invite code is unknown, used up or expired.");
        await renew.ExpectLineAsync("Type \"Sign up <client-id>\" to try another ID, or \"Log on <client-id>\".");
        await renew.SendLineAsync($"Sign up renew {code}");
        await renew.ExpectLineAsync("Signed up as renew.");
        await renew.ExpectLineAsync("Connected");
    }

    [Fact]
    public async Task Three_wrong_passwords_lock_the_ID_the_right_one_waits_and_unlock_lifts_it()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await using var guesser = await server.StartClientAsync("alice", "wrong-password", NoRoom);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            await guesser.SendLineAsync("Log on");
            await guesser.ExpectLineAsync("Log-on failed: unknown client ID or wrong password.");
        }

        await guesser.SendLineAsync("Log on");
        await guesser.ExpectLineAsync("Log-on failed: unknown client ID or wrong password. Too many failed log-ons for this client ID: it is locked; try again in 1 min.");

        await using var owner = await server.StartClientAsync("alice", "alice-password", NoRoom);
        await owner.SendLineAsync("Log on");
        await owner.ExpectLineAsync(new System.Text.RegularExpressions.Regex(@"^Too many failed log-ons for this client ID: it is locked; try again in (1 min|\d+ s)\.$"));

        var unlock = await ParleyProcess.RunAsync(null, "user", "unlock", "ALICE", "--data-dir", server.DataDirectory);
        Assert.Equal((0, "Unlocked ALICE"), (unlock.ExitCode, unlock.Lines.Single()));
        await owner.SendLineAsync("Log on");
        await owner.ExpectLineAsync("Connected");
    }

    [Fact]
    public async Task Removing_a_user_ends_their_connection_and_a_reset_password_replaces_the_old_one()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await server.AddUserAsync("bob", "bob-password");
        await using var alice = await server.StartClientAsync("alice", "alice-password", NoRoom);
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Connected");
        await using var bob = await server.StartClientAsync("bob", "bob-password", NoRoom);
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Connected");

        var reset = await ParleyProcess.RunAsync("bob-new-password", "user", "reset-password", "bob", "--password-stdin", "--data-dir", server.DataDirectory, "--scram-iterations", "4096");
        Assert.Equal((0, "Reset the password of bob"), (reset.ExitCode, reset.Lines.Single()));
        await bob.ExpectLineAsync("Error: Your password was reset; log on again with the new one.");
        await bob.ExpectLineAsync("Disconnected from the server (the server closed the connection).");
        await bob.SendLineAsync("Log on");
        await bob.ExpectLineAsync("Log-on failed: unknown client ID or wrong password.");

        var removed = await ParleyProcess.RunAsync(null, "user", "remove", "alice", "--data-dir", server.DataDirectory);
        Assert.Equal(0, removed.ExitCode);
        await alice.ExpectLineAsync("Error: Your account was removed by the server's administrator.");
        await alice.ExpectLineAsync("Disconnected from the server (the server closed the connection).");
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Log-on failed: unknown client ID or wrong password.");
    }

    [Fact]
    public async Task Passwd_changes_the_password_after_proving_the_old_one()
    {
        await using var server = await ServerProcess.StartAsync();
        await server.AddUserAsync("alice", "alice-password");
        await using var alice = await server.StartClientAsync("alice", "alice-password", NoRoom);
        await alice.SendLineAsync("Log on");
        await alice.ExpectLineAsync("Connected");

        // Script mode: the line after /passwd is the new password; the --password-stdin one is the current one.
        await alice.SendLineAsync("/passwd");
        await alice.SendLineAsync("alice-new-password");
        await alice.ExpectLineAsync("Password changed");
        Assert.DoesNotContain(alice.Lines, l => l.Contains("alice-new-password", StringComparison.Ordinal));

        await using var old = await server.StartClientAsync("alice", "alice-password", NoRoom);
        await old.SendLineAsync("Log on");
        await old.ExpectLineAsync("Log-on failed: unknown client ID or wrong password.");
        await using var fresh = await server.StartClientAsync("alice", "alice-new-password", NoRoom);
        await fresh.SendLineAsync("Log on");
        await fresh.ExpectLineAsync("Connected");

        // Issue #5: /passwd re-wrapped the encryption key's backup, so the new password unlocks the same key: no
        // "backup cannot be opened" warning, and no second key published.
        await fresh.SendLineAsync("/list");
        await fresh.ExpectLineAsync("Users (1 online, 1 listed):");
        Assert.DoesNotContain(fresh.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Equal(1, server.Process.Stderr.Split('\n').Count(l => l.Contains("alice published identity key", StringComparison.Ordinal)));
    }
}
