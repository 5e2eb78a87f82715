using System.Security.Cryptography;
using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>Issue #5 against an in-process server: KEYS_PUT, KEYS_GET, and the key backup a PASSWD re-wraps.</summary>
public sealed class KeyDirectoryTests : IDisposable
{
    private readonly IdentityKey _key = IdentityKey.Create();
    private readonly IdentityKey _other = IdentityKey.Create();

    public void Dispose()
    {
        _key.Dispose();
        _other.Dispose();
    }

    [Fact]
    public async Task A_published_key_is_handed_to_others_without_the_backup_and_to_its_owner_with_it()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        var backup = FakeBackup(_key.Public.Fingerprint);

        Assert.Equal(_key.Public.Fingerprint, await alice.PublishKeysAsync(Put(_key, "alice", backup), Token()));

        var atBob = await GetKeysAsync(bob, "ALICE");
        Assert.Equal("alice", atBob.ClientId);
        var published = Assert.Single(atBob.Published);
        Assert.Equal(
            (_key.Public.Fingerprint, _key.Public.AgreeKeyBase64, _key.Public.SignKeyBase64),
            (published.Fingerprint, published.AgreeKey, published.SignKey));
        using (var parsed = IdentityPublicKey.TryParse(published.AgreeKey, published.SignKey))
        {
            Assert.NotNull(parsed);
            Assert.True(parsed.VerifyBundle("alice", published.Signature)); // bob can check alice signed it herself
        }

        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(published.PublishedAt), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(_key.Public.Fingerprint, atBob.Current);
        Assert.Null(atBob.Backup);

        var atAlice = await GetKeysAsync(alice, "alice");
        Assert.Equal(_key.Public.Fingerprint, atAlice.Current);
        Assert.Equal(backup, atAlice.Backup);
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("bob")] // exists, has published nothing
    [InlineData("not valid!")]
    [InlineData("")]
    public async Task Asking_for_the_keys_of_an_ID_without_any_gets_an_empty_list(string clientId)
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("bob", "pw");
        await using var alice = await server.AddAndLogOnAsync("alice");
        var keys = await GetKeysAsync(alice, clientId);
        Assert.Equal(clientId, keys.ClientId);
        Assert.Empty(keys.Published);
        Assert.Null(keys.Current);
        Assert.Null(keys.Backup);
    }

    public static TheoryData<string> InvalidPuts =>
    [
        "signed for another ID", "signed by another key", "signature not base64", "point off the curve", "point not base64",
        "backup with too few iterations", "backup with too many iterations", "backup of another key", "backup salt too short",
        "backup box too short", "backup box not base64",
    ];

    [Theory]
    [MemberData(nameof(InvalidPuts))]
    public async Task Keys_that_are_not_self_signed_points_with_a_well_formed_backup_are_refused_and_nothing_is_stored(string fault)
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        var fingerprint = _key.Public.Fingerprint;
        var good = Put(_key, "alice", FakeBackup(fingerprint));
        var offCurve = new byte[65];
        offCurve[0] = 0x04;
        offCurve[32] = 1;
        offCurve[64] = 1;
        var put = fault switch
        {
            "signed for another ID" => good with { Signature = _key.SignBundle("carol") },
            "signed by another key" => good with { Signature = _other.SignBundle("alice") },
            "signature not base64" => good with { Signature = "not base64!" },
            "point off the curve" => good with { AgreeKey = Convert.ToBase64String(offCurve) },
            "point not base64" => good with { SignKey = "not base64!" },
            "backup with too few iterations" => good with { Backup = good.Backup with { Iterations = KeyBackup.MinimumIterations - 1 } },
            "backup with too many iterations" => good with { Backup = good.Backup with { Iterations = KeyBackup.MaximumIterations + 1 } },
            "backup of another key" => good with { Backup = FakeBackup(_other.Public.Fingerprint) },
            "backup salt too short" => good with { Backup = good.Backup with { Salt = Convert.ToBase64String(new byte[8]) } },
            "backup box too short" => good with { Backup = good.Backup with { Sealed = Convert.ToBase64String(new byte[KeyBackup.BoxBytes - 1]) } },
            "backup box not base64" => good with { Backup = good.Backup with { Sealed = "not base64!" } },
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };

        await alice.SendAsync(put);
        Assert.Equal(ErrorCodes.KeysInvalid, (await alice.ExpectAsync<Error>()).Code);
        var keys = await GetKeysAsync(alice, "alice"); // the connection is still up
        Assert.Empty(keys.Published);
        Assert.Null(keys.Backup);
        Assert.Null(new KeyStore(server.Database).Get("alice")!.Backup);

        // The same keys done right are accepted.
        Assert.Equal(fingerprint, await alice.PublishKeysAsync(good, Token()));
    }

    [Fact]
    public async Task Publishing_more_distinct_keys_than_the_server_allows_is_refused_and_a_replaced_key_cannot_return()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxKeysPerUser = 2 });
        await using var alice = await server.AddAndLogOnAsync("alice");
        using var third = IdentityKey.Create();

        await alice.PublishKeysAsync(Put(_key, "alice"), Token());
        await alice.PublishKeysAsync(Put(_other, "alice"), Token());
        await alice.SendAsync(Put(third, "alice"));
        Assert.Equal(ErrorCodes.TooManyKeys, (await alice.ExpectAsync<Error>()).Code);

        // Through the library the refusal is an exception carrying the server's reason.
        var refused = await Assert.ThrowsAsync<ParleyClientException>(() => alice.PublishKeysAsync(Put(third, "alice"), Token()));
        Assert.Equal(ClientFailure.Refused, refused.Failure);
        Assert.Contains("2 identity keys", refused.Message, StringComparison.Ordinal);

        var keys = await GetKeysAsync(alice, "alice");
        Assert.Equal([_key.Public.Fingerprint, _other.Public.Fingerprint], keys.Published.Select(k => k.Fingerprint));
        Assert.Equal(_other.Public.Fingerprint, keys.Current);

        // The current key may be published again (a retry); the replaced one may not come back.
        Assert.Equal(_other.Public.Fingerprint, await alice.PublishKeysAsync(Put(_other, "alice"), Token()));
        var rollback = await Assert.ThrowsAsync<ParleyClientException>(() => alice.PublishKeysAsync(Put(_key, "alice"), Token()));
        Assert.Contains("replaced by a newer one", rollback.Message, StringComparison.Ordinal);
        Assert.Equal(_other.Public.Fingerprint, (await GetKeysAsync(alice, "alice")).Current);
    }

    [Fact]
    public async Task On_a_fresh_machine_the_user_gets_their_key_back_from_the_server_and_reads_what_was_sent_to_it()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("bob", "pw");
        var sealedBackup = KeyBackup.Seal(_key, "alice", "pw");
        await using (var first = await server.AddAndLogOnAsync("alice"))
        {
            await first.PublishKeysAsync(Put(_key, "alice", new KeyBackupInfo(sealedBackup.Fingerprint, Convert.ToBase64String(sealedBackup.Salt),
                sealedBackup.Iterations, Convert.ToBase64String(sealedBackup.Box))), Token());
        }

        // Bob encrypts to the key the directory gives him.
        using var bobsKey = IdentityKey.Create();
        string envelope;
        var dm = new MessageContext(MessageKind.Dm, "bob", "alice", "");
        await using (var bob = await server.LogOnAsync("bob", "pw"))
        {
            var alicesKeys = await GetKeysAsync(bob, "alice");
            using var alicesKey = IdentityPublicKey.TryParse(alicesKeys.Published.Single().AgreeKey, alicesKeys.Published.Single().SignKey)!;
            envelope = SealedMessage.Seal(bobsKey, alicesKey, dm, "hello on your new laptop");
        }

        await using var fresh = await server.LogOnAsync("alice", "pw");
        var own = await GetKeysAsync(fresh, "alice");
        var b = own.Backup!;
        using var published = IdentityPublicKey.TryParse(own.Published.Single().AgreeKey, own.Published.Single().SignKey)!;
        using var restored = KeyBackup.Open(new SealedBackup(b.Fingerprint, Convert.FromBase64String(b.Salt), b.Iterations, Convert.FromBase64String(b.Sealed)),
            "alice", "pw", published);
        Assert.NotNull(restored);
        Assert.Equal(_key.Public.Fingerprint, restored.Public.Fingerprint);
        Assert.Equal("hello on your new laptop", SealedMessage.TryParse(envelope)!.Open(restored, bobsKey.Public, dm, meIsSender: false).Text);
    }

    [Fact]
    public async Task A_password_change_with_a_re_wrapped_backup_replaces_the_stored_one()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await alice.PublishKeysAsync(Put(_key, "alice"), Token());

        var rewrapped = FakeBackup(_key.Public.Fingerprint);
        await alice.ChangePasswordAsync("pw", "new-password", rewrapped, Token());
        await alice.ExpectAsync<PasswdOk>();

        var own = await GetKeysAsync(alice, "alice");
        Assert.Equal((rewrapped.Sealed, rewrapped.Salt), (own.Backup!.Sealed, own.Backup.Salt));
        Assert.Equal(_key.Public.Fingerprint, own.Current);
        await using var again = await server.LogOnAsync("alice", "new-password");
        Assert.Equal(rewrapped.Sealed, (await GetKeysAsync(again, "alice")).Backup!.Sealed);
    }

    [Fact]
    public async Task A_password_change_with_a_backup_of_a_key_no_longer_current_changes_the_password_only()
    {
        // Another of alice's clients published a newer key meanwhile: the older key must not come back.
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        await alice.PublishKeysAsync(Put(_key, "alice"), Token());
        var current = FakeBackup(_other.Public.Fingerprint);
        await alice.PublishKeysAsync(Put(_other, "alice", current), Token());

        await alice.ChangePasswordAsync("pw", "new-password", FakeBackup(_key.Public.Fingerprint), Token());
        await alice.ExpectAsync<PasswdOk>();

        var own = await GetKeysAsync(alice, "alice");
        Assert.Equal(_other.Public.Fingerprint, own.Current);
        Assert.Equal(current, own.Backup);
        await using var again = await server.LogOnAsync("alice", "new-password");
    }

    [Fact]
    public async Task A_password_change_with_a_malformed_backup_is_refused_and_the_old_password_stays()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var alice = await server.AddAndLogOnAsync("alice");
        var backup = FakeBackup(_key.Public.Fingerprint);
        await alice.PublishKeysAsync(Put(_key, "alice", backup), Token());

        var malformed = FakeBackup(_key.Public.Fingerprint) with { Iterations = 1000 };
        await alice.ChangePasswordAsync("pw", "new-password", malformed, Token());
        Assert.Equal(ErrorCodes.KeysInvalid, (await alice.ExpectAsync<Error>()).Code);

        Assert.Equal(backup, (await GetKeysAsync(alice, "alice")).Backup);
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "new-password"));
        await using var again = await server.LogOnAsync("alice", "pw");
    }

    private static KeysPut Put(IdentityKey key, string signedFor, KeyBackupInfo? backup = null) =>
        new(key.Public.AgreeKeyBase64, key.Public.SignKeyBase64, key.SignBundle(signedFor), backup ?? FakeBackup(key.Public.Fingerprint));

    /// <summary>A backup shaped like <see cref="KeyBackup.Seal"/>'s, of random bytes: the server cannot tell, which is the point.</summary>
    private static KeyBackupInfo FakeBackup(string fingerprint) => new(
        fingerprint, Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBackup.SaltBytes)), KeyBackup.MinimumIterations,
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBackup.BoxBytes)));

    private static Task<Keys> GetKeysAsync(ParleyConnection connection, string clientId) => connection.GetKeysAsync(clientId, Token());

    private static CancellationToken Token() => new CancellationTokenSource(InProcessServer.Timeout).Token;
}
