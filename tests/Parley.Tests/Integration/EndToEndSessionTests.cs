using Parley.Client;
using Parley.Client.EndToEnd;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Protocol.Security.EndToEnd;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>
/// The client library's end-to-end layer against a real server (issue #5): a key is made once and unlocked on every
/// later log-on, contacts are trusted on first use and a changed key is caught, and a message opens only where it belongs.
/// Each log-on here runs the backup's 600,000-iteration PBKDF2 once.
/// </summary>
public sealed class EndToEndSessionTests : IDisposable
{
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("parley-e2e-state-");

    public void Dispose() => _state.Delete(recursive: true);

    [Fact]
    public async Task The_first_log_on_publishes_a_key_and_later_ones_unlock_the_same_key_from_the_backup()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");

        string first;
        await using (var connection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var session = await StartAsync(connection, "pw-alice");
            first = session.PublicKey.Fingerprint;
            Assert.Null(session.Notice);
        }

        await using (var again = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var session = await EndToEndSession.StartAsync(again, "pw-alice", ContactBook.InMemory());
            Assert.Equal(first, session.PublicKey.Fingerprint);
            Assert.Null(session.Notice);
        }

        var stored = new KeyStore(server.Database).Get("alice")!;
        Assert.Equal(first, Assert.Single(stored.Keys).Fingerprint);
    }

    [Fact]
    public async Task After_an_admin_password_reset_the_backup_does_not_open_so_a_new_key_is_made_and_the_user_is_told()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");
        var first = await LogOnOnceAsync(server, "alice", "pw-alice");

        new UserStore(server.Database).SetVerifier("alice", Scram.CreateVerifier("pw-reset", InProcessServer.FastIterations));
        await using var reset = await server.LogOnAsync("alice", "pw-reset");
        using var renewed = await StartAsync(reset, "pw-reset");

        Assert.NotEqual(first, renewed.PublicKey.Fingerprint);
        Assert.Contains("cannot be opened with this password", renewed.Notice, StringComparison.Ordinal);
        var stored = new KeyStore(server.Database).Get("alice")!;
        Assert.Equal([first, renewed.PublicKey.Fingerprint], stored.Keys.Select(k => k.Fingerprint));
        Assert.Equal(renewed.PublicKey.Fingerprint, stored.Current);
    }

    [Fact]
    public async Task A_contact_is_trusted_on_first_use_remembered_on_disk_and_a_changed_key_is_reported_until_accepted()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");
        server.AddUser("bob", "pw-bob");
        await LogOnOnceAsync(server, "bob", "pw-bob");

        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            var contact = await alice.ContactAsync("BOB");
            Assert.Equal(KeyTrust.Trusted, contact.Trust);
            Assert.True(contact.FirstUse);
            Assert.Equal("bob", contact.ClientId);
        }

        // Bob's key is replaced (his password was reset); alice's next run remembers the old one.
        new UserStore(server.Database).SetVerifier("bob", Scram.CreateVerifier("pw-bob-2", InProcessServer.FastIterations));
        await LogOnOnceAsync(server, "bob", "pw-bob-2");

        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            var changed = await alice.ContactAsync("bob");
            Assert.Equal(KeyTrust.Changed, changed.Trust);
            Assert.False(changed.FirstUse);

            alice.Accept(changed, verified: true);
            Assert.Equal(KeyTrust.Verified, changed.Trust);
        }

        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            Assert.Equal(KeyTrust.Verified, (await alice.ContactAsync("bob")).Trust);
        }
    }

    [Fact]
    public async Task Only_the_current_key_is_trusted_on_first_use_so_the_server_can_neither_swap_in_a_listed_key_nor_roll_back()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");
        server.AddUser("bob", "pw-bob");
        var real = await LogOnOnceAsync(server, "bob", "pw-bob");

        // The operator lists a key of their own, self-signed in bob's name, beside bob's real (current) one.
        using var forged = IdentityKey.Create();
        Sql(server, $"INSERT INTO identity_keys(client_id, fingerprint, agree_key, sign_key, signature, published_at) VALUES ('bob', '{forged.Public.Fingerprint}', " +
            $"X'{Convert.ToHexString(forged.Public.AgreeKey)}', X'{Convert.ToHexString(forged.Public.SignKey)}', X'{Convert.ToHexString(Convert.FromBase64String(forged.SignBundle("bob")))}', 0);");

        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            var bob = await alice.ContactAsync("bob");
            Assert.Equal(real, bob.Current!.Fingerprint);
            alice.Accept(bob, verified: true);

            // A message signed by the listed-but-never-current key is not bob's in alice's eyes.
            var fake = SealedMessage.Seal(forged, alice.PublicKey, new MessageContext(MessageKind.Dm, "bob", "alice", ""), "send me your password");
            var opened = await alice.OpenAsync(fake, MessageKind.Dm, "bob", "alice", "");
            Assert.Equal(OpenStatus.Ok, opened.Status);
            Assert.False(opened.KeyTrusted);
        }

        // The operator makes the forged key current: a change, loudly (bob was verified), not a silent switch.
        Sql(server, $"UPDATE key_backups SET fingerprint = '{forged.Public.Fingerprint}' WHERE client_id = 'bob';");
        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            var swapped = await alice.ContactAsync("bob");
            Assert.Equal(KeyTrust.Changed, swapped.Trust);
            Assert.True(swapped.WasVerified);

            // alice accepts it; then the operator rolls bob back to the real key, which alice once trusted: a change again.
            alice.Accept(swapped, verified: false);
        }

        Sql(server, $"UPDATE key_backups SET fingerprint = '{real}' WHERE client_id = 'bob';");
        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            var rolledBack = await alice.ContactAsync("bob");
            Assert.Equal(KeyTrust.Changed, rolledBack.Trust);
            Assert.False(rolledBack.WasVerified);
        }
    }

    [Fact]
    public async Task A_key_lookup_on_a_dead_link_fails_at_once_instead_of_waiting_forever()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await server.RestartAsync(); // the server goes away (and comes back on other ports): alice's link is dead
        await alice.ExpectClosedAsync();

        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        var first = await Assert.ThrowsAsync<ParleyClientException>(() => alice.GetKeysAsync("bob", timeout.Token));
        var second = await Assert.ThrowsAsync<ParleyClientException>(() => alice.GetKeysAsync("bob", timeout.Token));
        Assert.Equal(ClientFailure.ConnectionLost, first.Failure);
        Assert.Equal(ClientFailure.ConnectionLost, second.Failure);
    }

    [Fact]
    public void A_contact_book_that_cannot_be_written_keeps_working_in_memory_and_says_why()
    {
        // A file where the book's directory should be: every write fails, whoever runs the test.
        var blocked = Path.Combine(_state.FullName, "blocked");
        File.WriteAllText(blocked, "not a directory");
        var book = ContactBook.Open(blocked, "127.0.0.1:5300", "alice");

        book.Accept("bob", "00112233445566778899aabbccddeeff");

        Assert.Equal("00112233445566778899aabbccddeeff", book.Find("bob")!.Current);
        Assert.Contains("remembered only until you quit", book.Problem, StringComparison.Ordinal);
    }

    private static void Sql(InProcessServer server, string sql) => Assert.Equal(1, OperatorDatabase.Execute(server.Database.Path, sql));

    [Fact]
    public async Task A_user_without_a_key_and_an_unknown_user_are_told_apart()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");
        server.AddUser("bob", "pw-bob");
        await using var connection = await server.LogOnAsync("alice", "pw-alice");
        using var alice = await StartAsync(connection, "pw-alice");

        Assert.Equal(KeyTrust.NoKey, (await alice.ContactAsync("bob")).Trust);
        Assert.Equal(KeyTrust.Unknown, (await alice.ContactAsync("nobody")).Trust);

        // Bob logs on (publishing a key): alice's next lookup finds it, since "no key" is not remembered.
        await using var bobConnection = await server.LogOnAsync("bob", "pw-bob");
        using var bob = await StartAsync(bobConnection, "pw-bob");
        Assert.Equal(KeyTrust.Trusted, (await alice.ContactAsync("bob")).Trust);
    }

    [Fact]
    public async Task A_sealed_DM_opens_for_its_recipient_and_its_sender_and_fails_for_anyone_it_is_redirected_to()
    {
        await using var server = await InProcessServer.StartAsync();
        foreach (var id in new[] { "alice", "bob", "carol" })
        {
            server.AddUser(id, "pw-" + id);
        }

        await using var aliceConnection = await server.LogOnAsync("alice", "pw-alice");
        await using var bobConnection = await server.LogOnAsync("bob", "pw-bob");
        await using var carolConnection = await server.LogOnAsync("carol", "pw-carol");
        using var alice = await StartAsync(aliceConnection, "pw-alice");
        using var bob = await StartAsync(bobConnection, "pw-bob");
        using var carol = await StartAsync(carolConnection, "pw-carol");

        var envelope = alice.Seal(await alice.ContactAsync("bob"), MessageKind.Dm, "", "meet at noon");

        var atBob = await bob.OpenAsync(envelope, MessageKind.Dm, "alice", "bob", "");
        Assert.Equal(new Opened("meet at noon", OpenStatus.Ok, atBob.MessageId, KeyTrusted: true), atBob);
        Assert.Equal("meet at noon", (await alice.OpenAsync(envelope, MessageKind.Dm, "alice", "bob", "")).Text);
        Assert.Equal(OpenStatus.NotAuthentic, (await carol.OpenAsync(envelope, MessageKind.Dm, "alice", "carol", "")).Status);
        Assert.Equal(OpenStatus.NotAuthentic, (await bob.OpenAsync(envelope, MessageKind.Chat, "alice", "bob", "s1")).Status);
        Assert.Equal(OpenStatus.NotEncrypted, (await bob.OpenAsync("meet at noon", MessageKind.Dm, "alice", "bob", "")).Status);
        Assert.Equal(OpenStatus.NotAuthentic, (await bob.OpenAsync("e2e1:not-an-envelope", MessageKind.Dm, "alice", "bob", "")).Status);

        // Parts a hostile server chooses cannot crash the client: a 70,000-character session ID, an ID no one can have.
        Assert.Equal(OpenStatus.NotAuthentic, (await bob.OpenAsync(envelope, MessageKind.Chat, "alice", "bob", new string('s', 70_000))).Status);
        Assert.Equal(OpenStatus.NotAuthentic, (await bob.OpenAsync(envelope, MessageKind.Dm, "alice[2J", "bob", "")).Status);
    }

    [Fact]
    public async Task A_cancelled_key_lookup_leaves_nothing_behind_for_the_next_one_to_wait_on()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("bob", "pw-bob");
        await using var alice = await server.AddAndLogOnAsync("alice");

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alice.GetKeysAsync("bob", cancelled.Token));

        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        var keys = await alice.GetKeysAsync("bob", timeout.Token);
        Assert.True(keys.Known);
    }

    [Fact]
    public async Task A_removed_users_old_messages_still_verify_but_nothing_new_can_be_sealed_to_them()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");
        server.AddUser("bob", "pw-bob");
        string envelope;
        await using (var aliceConnection = await server.LogOnAsync("alice", "pw-alice"))
        {
            using var alice = await StartAsync(aliceConnection, "pw-alice");
            await using var bobConnection = await server.LogOnAsync("bob", "pw-bob");
            using var bob = await StartAsync(bobConnection, "pw-bob");
            envelope = alice.Seal(await alice.ContactAsync("bob"), MessageKind.Dm, "", "kept for the record");
        }

        Assert.True(new UserStore(server.Database).Remove("alice"));

        await using var again = await server.LogOnAsync("bob", "pw-bob");
        using var bobAgain = await EndToEndSession.StartAsync(again, "pw-bob", ContactBook.InMemory());
        Assert.Equal("kept for the record", (await bobAgain.OpenAsync(envelope, MessageKind.Dm, "alice", "bob", "")).Text);
        var gone = await bobAgain.ContactAsync("alice");
        Assert.Null(gone.Current);
        Assert.Equal(KeyTrust.Unknown, gone.Trust);
    }

    [Fact]
    public async Task Keys_without_a_backup_get_a_new_key_and_the_user_is_told()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw-alice");
        var first = await LogOnOnceAsync(server, "alice", "pw-alice");

        // The server loses (or withholds) the backup.
        Sql(server, "DELETE FROM key_backups;");

        await using var again = await server.LogOnAsync("alice", "pw-alice");
        using var renewed = await StartAsync(again, "pw-alice");
        Assert.NotEqual(first, renewed.PublicKey.Fingerprint);
        Assert.Contains("no backup of them", renewed.Notice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_contact_book_file_is_private_and_a_damaged_one_is_reported_not_replaced()
    {
        var book = ContactBook.Open(_state.FullName, "127.0.0.1:5300", "Alice");
        book.Accept("bob", "00112233445566778899aabbccddeeff");
        var path = Path.Combine(_state.FullName, "127.0.0.1_5300", "alice", "contacts.json");
        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Equal(["00112233445566778899aabbccddeeff"], ContactBook.Open(_state.FullName, "127.0.0.1:5300", "alice").Find("BOB")!.Accepted);

        await File.WriteAllTextAsync(path, "{ not json");
        var error = Assert.Throws<ParleyClientException>(() => ContactBook.Open(_state.FullName, "127.0.0.1:5300", "alice"));
        Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
        Assert.Equal("{ not json", await File.ReadAllTextAsync(path));
    }

    /// <summary>Logs <paramref name="clientId"/> on and starts its end-to-end session once (publishing or unlocking its key); returns the key's fingerprint.</summary>
    private async Task<string> LogOnOnceAsync(InProcessServer server, string clientId, string password)
    {
        await using var connection = await server.LogOnAsync(clientId, password);
        using var session = await StartAsync(connection, password);
        return session.PublicKey.Fingerprint;
    }

    private Task<EndToEndSession> StartAsync(ParleyConnection connection, string password) =>
        EndToEndSession.StartAsync(connection, password, ContactBook.Open(_state.FullName, "test", connection.ClientId), new CancellationTokenSource(InProcessServer.Timeout).Token);
}
