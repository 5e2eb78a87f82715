using System.Security.Cryptography;
using Parley.Protocol.Security.EndToEnd;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

/// <summary>Issue #5's public-key directory in the database: published identity keys and the password-wrapped backup.</summary>
public sealed class KeyStoreTests : IDisposable
{
    private const int Limit = 32;
    private readonly TempDatabase _db = new();
    private readonly ManualTimeProvider _time = new();
    private readonly UserStore _users;
    private readonly KeyStore _keys;

    public KeyStoreTests()
    {
        _users = new UserStore(_db.Database);
        _keys = new KeyStore(_db.Database);
        Assert.True(_users.TryAdd("Alice", TempDatabase.NewVerifier()));
        Assert.True(_users.TryAdd("bob", TempDatabase.NewVerifier()));
    }

    public void Dispose() => _db.Dispose();

    [Fact]
    public void A_published_key_comes_back_with_its_backup_and_is_current()
    {
        var key = NewKey();
        var backup = NewBackup(key);
        Assert.Equal(PublishStatus.Published, _keys.Publish("Alice", key, backup, Limit));

        var found = _keys.Get("Alice");
        Assert.NotNull(found);
        var stored = Assert.Single(found.Keys);
        Assert.Equal(key.Fingerprint, stored.Fingerprint);
        Assert.Equal(key.AgreeKey, stored.AgreeKey);
        Assert.Equal(key.SignKey, stored.SignKey);
        Assert.Equal(key.Signature, stored.Signature);
        Assert.Equal(key.PublishedAt, stored.PublishedAt);
        AssertSameBackup(backup, found.Backup);
        Assert.Equal(key.Fingerprint, found.Current);
    }

    [Fact]
    public void Keys_are_found_by_the_ID_in_any_letter_case_under_its_stored_spelling()
    {
        var key = NewKey();
        Assert.Equal(PublishStatus.Published, _keys.Publish("ALICE", key, NewBackup(key), Limit));
        var found = _keys.Get("alice");
        Assert.NotNull(found);
        Assert.Equal("Alice", found.ClientId);
        Assert.Equal(key.Fingerprint, Assert.Single(found.Keys).Fingerprint);
    }

    [Fact]
    public void A_user_who_has_not_published_has_no_keys_and_no_current_key()
    {
        var found = _keys.Get("bob");
        Assert.NotNull(found);
        Assert.Empty(found.Keys);
        Assert.Null(found.Backup);
        Assert.Null(found.Current);
    }

    [Fact]
    public void A_new_key_becomes_current_and_the_old_one_is_kept_to_verify_old_messages()
    {
        var first = NewKey();
        var second = NewKey();
        _keys.Publish("alice", first, NewBackup(first), Limit);
        _time.Advance(TimeSpan.FromMinutes(1));
        var secondBackup = NewBackup(second);
        Assert.Equal(PublishStatus.Published, _keys.Publish("alice", second, secondBackup, Limit));

        var found = _keys.Get("alice")!;
        Assert.Equal([first.Fingerprint, second.Fingerprint], found.Keys.Select(k => k.Fingerprint));
        Assert.Equal(second.Fingerprint, found.Current);
        AssertSameBackup(secondBackup, found.Backup);
    }

    [Fact]
    public void Publishing_the_current_key_again_replaces_its_backup_but_a_replaced_key_cannot_come_back()
    {
        var first = NewKey();
        var second = NewKey();
        _keys.Publish("alice", first, NewBackup(first), Limit);
        _keys.Publish("alice", second, NewBackup(second), Limit);

        // A retry of the current key's publication: same key, new backup, nothing added.
        var retried = NewBackup(second);
        Assert.Equal(PublishStatus.Published, _keys.Publish("alice", second, retried, Limit));

        // The replaced key stays listed (old messages verify) but may not become current again: a silent rollback.
        Assert.Equal(PublishStatus.Retired, _keys.Publish("alice", first, NewBackup(first), Limit));
        var found = _keys.Get("alice")!;
        Assert.Equal([first.Fingerprint, second.Fingerprint], found.Keys.Select(k => k.Fingerprint));
        Assert.Equal(second.Fingerprint, found.Current);
        AssertSameBackup(retried, found.Backup);
    }

    [Fact]
    public void A_key_past_the_limit_is_refused_and_nothing_changes_but_the_current_one_may_be_published_again()
    {
        var first = NewKey();
        var second = NewKey();
        _keys.Publish("alice", first, NewBackup(first), maxKeys: 2);
        var secondBackup = NewBackup(second);
        _keys.Publish("alice", second, secondBackup, maxKeys: 2);

        var third = NewKey();
        Assert.Equal(PublishStatus.TooManyKeys, _keys.Publish("alice", third, NewBackup(third), maxKeys: 2));
        var found = _keys.Get("alice")!;
        Assert.Equal([first.Fingerprint, second.Fingerprint], found.Keys.Select(k => k.Fingerprint));
        Assert.Equal(second.Fingerprint, found.Current);
        AssertSameBackup(secondBackup, found.Backup);

        Assert.Equal(PublishStatus.Published, _keys.Publish("alice", second, NewBackup(second), maxKeys: 2));
        Assert.Equal(second.Fingerprint, _keys.Get("alice")!.Current);
    }

    [Fact]
    public void Keys_of_an_unknown_user_are_neither_stored_nor_found()
    {
        var key = NewKey();
        Assert.Equal(PublishStatus.NoSuchUser, _keys.Publish("nobody", key, NewBackup(key), Limit));
        Assert.Null(_keys.Get("nobody"));

        // Created later, the ID starts with no keys: nothing was stored for it meanwhile.
        Assert.True(_users.TryAdd("nobody", TempDatabase.NewVerifier()));
        Assert.Empty(_keys.Get("nobody")!.Keys);
        Assert.Null(_keys.Get("nobody")!.Backup);
    }

    [Fact]
    public void A_removed_user_takes_their_backup_but_leaves_their_public_keys_and_a_re_created_ID_has_no_current_key()
    {
        var alices = NewKey();
        var bobs = NewKey();
        _keys.Publish("alice", alices, NewBackup(alices), Limit);
        _keys.Publish("bob", bobs, NewBackup(bobs), Limit);

        // Removed: the private key's backup is gone; the public key stays, so alice's old messages still verify.
        Assert.True(_users.Remove("alice"));
        var removed = _keys.Get("ALICE")!;
        Assert.False(removed.Known);
        Assert.Equal("Alice", removed.ClientId); // the spelling it had
        Assert.Equal([alices.Fingerprint], removed.Keys.Select(k => k.Fingerprint));
        Assert.Null(removed.Backup);
        Assert.Equal(PublishStatus.NoSuchUser, _keys.Publish("alice", NewKey(), NewBackup(alices), Limit));

        // Re-created: a new person under the old ID, with no current key until they publish one.
        Assert.True(_users.TryAdd("alice", TempDatabase.NewVerifier()));
        var found = _keys.Get("alice")!;
        Assert.True(found.Known);
        Assert.Null(found.Backup);
        Assert.Null(found.Current);

        Assert.Equal(bobs.Fingerprint, _keys.Get("bob")!.Current); // others keep theirs
    }

    [Fact]
    public void A_password_change_with_a_backup_of_the_current_key_stores_it_with_the_verifier()
    {
        var key = NewKey();
        _keys.Publish("alice", key, NewBackup(key), Limit);
        var verifier = TempDatabase.NewVerifier();
        var rewrapped = NewBackup(key);

        Assert.NotNull(_users.SetVerifier("ALICE", verifier, rewrapped, out var backupStored));
        Assert.True(backupStored);
        AssertSameBackup(rewrapped, _keys.Get("alice")!.Backup);
        Assert.Equal(verifier.StoredKey, _users.Find("alice")!.Verifier.StoredKey);
    }

    [Fact]
    public void A_password_change_with_a_backup_of_an_older_key_changes_the_password_but_keeps_the_current_backup()
    {
        // A client that missed a newer key must not roll its user back to the old one.
        var first = NewKey();
        var second = NewKey();
        _keys.Publish("alice", first, NewBackup(first), Limit);
        var current = NewBackup(second);
        _keys.Publish("alice", second, current, Limit);
        var verifier = TempDatabase.NewVerifier();

        Assert.NotNull(_users.SetVerifier("alice", verifier, NewBackup(first), out var backupStored));
        Assert.False(backupStored);
        var found = _keys.Get("alice")!;
        Assert.Equal(second.Fingerprint, found.Current);
        AssertSameBackup(current, found.Backup);
        Assert.Equal(verifier.StoredKey, _users.Find("alice")!.Verifier.StoredKey);
    }

    [Fact]
    public void A_password_change_with_a_backup_before_any_key_was_published_stores_no_backup()
    {
        var verifier = TempDatabase.NewVerifier();
        Assert.NotNull(_users.SetVerifier("bob", verifier, NewBackup(NewKey()), out var backupStored));
        Assert.False(backupStored);
        Assert.Null(_keys.Get("bob")!.Backup);
        Assert.Equal(verifier.StoredKey, _users.Find("bob")!.Verifier.StoredKey);
    }

    [Fact]
    public void A_password_change_without_a_backup_leaves_the_backup_as_it_was()
    {
        var key = NewKey();
        var backup = NewBackup(key);
        _keys.Publish("alice", key, backup, Limit);
        Assert.NotNull(_users.SetVerifier("alice", TempDatabase.NewVerifier(), backup: null, out var backupStored));
        Assert.False(backupStored);
        AssertSameBackup(backup, _keys.Get("alice")!.Backup);
    }

    /// <summary>A key of random bytes: the store checks nothing cryptographic (the server's KeyDirectory does).</summary>
    private StoredIdentityKey NewKey() => new(
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), RandomNumberGenerator.GetBytes(65),
        RandomNumberGenerator.GetBytes(65), RandomNumberGenerator.GetBytes(64), _time.GetUtcNow());

    private static StoredBackup NewBackup(StoredIdentityKey key) => new(
        key.Fingerprint, RandomNumberGenerator.GetBytes(KeyBackup.SaltBytes), KeyBackup.MinimumIterations,
        RandomNumberGenerator.GetBytes(KeyBackup.BoxBytes));

    private static void AssertSameBackup(StoredBackup expected, StoredBackup? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Fingerprint, actual.Fingerprint);
        Assert.Equal(expected.Salt, actual.Salt);
        Assert.Equal(expected.Iterations, actual.Iterations);
        Assert.Equal(expected.Box, actual.Box);
    }
}
