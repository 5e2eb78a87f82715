using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Server.Authentication;
using Parley.Server.Connections;
using Parley.Server.Routing;
using Parley.Storage;

namespace Parley.Server.Accounts;

/// <summary>
/// Account operations of a logged-on client and the admin's reach into live connections (issue #3): the directory
/// (seed 002 "!LIST"), password change (<c>/passwd</c>), and ending the connections of users the admin removed or
/// whose password changed, noticed by polling the database's users_version (<c>parley user</c> is another process).
/// </summary>
internal sealed class AccountService(
    ParleyServerOptions options, UserStore users, LockoutStore lockouts, ChatRouter router, HandshakeService handshakes,
    TimeProvider time, ILogger<AccountService> logger)
{
    private long _seenVersion = -1;

    /// <summary>Seed 002 "!LIST": every user with presence, or only who is online (003's DM list); bounded by --max-directory-entries.</summary>
    public ListResp List(bool onlineOnly)
    {
        var limit = options.DirectoryEntriesPerFrame;
        var online = router.OnlineIds();
        List<DirectoryEntry> entries = onlineOnly
            ? [.. online.OrderBy(id => id.ToLowerInvariant(), StringComparer.Ordinal).Take(limit + 1).Select(id => new DirectoryEntry(id, Online: true))]
            : [.. users.List(limit + 1).Select(u => new DirectoryEntry(u.ClientId, online.Contains(u.ClientId)))];
        var truncated = entries.Count > limit;
        return new ListResp(truncated ? entries[..limit] : entries, truncated);
    }

    /// <summary>
    /// <c>/passwd</c>: the proof must verify against the stored verifier (the old password), else it counts as a
    /// failed log-on for the lockout. The connection stays up: it is exempt from the watcher while the change
    /// commits, then takes the new generation, so the watcher never takes this client's own change for a reset.
    /// </summary>
    public ParleyMessage ChangePassword(ClientConnection client, Passwd request)
    {
        var now = time.GetUtcNow();
        if (lockouts.LockedUntil(client.ClientId, now) is { } until)
        {
            return new Error(ErrorCodes.LockedOut, $"Too many wrong passwords: password changes are locked; try again in {Durations.Format(until - now)}.");
        }

        if (users.Find(client.ClientId) is not { } user)
        {
            return new Error(ErrorCodes.AccountRemoved, "Your account no longer exists.");
        }

        if (NewVerifiers.Parse(request.Salt, request.Iterations, request.StoredKey, request.ServerKey, options.ScramIterations) is not { } verifier)
        {
            return new Error(ErrorCodes.BadVerifier, NewVerifiers.Rule(options.ScramIterations));
        }

        var clientKey = Scram.VerifyClientProof(user.Verifier.StoredKey, WireBase64.DecodeOrEmpty(request.Proof), Scram.PasswdBinding(verifier));
        if (clientKey is null)
        {
            logger.LogInformation("{ClientId} gave a wrong current password for a password change", client.ClientId);
            return lockouts.RecordFailure(client.ClientId, now, options.Lockout) is { } lockedUntil
                ? new Error(ErrorCodes.LockedOut, $"The current password is wrong. Too many wrong passwords: locked; try again in {Durations.Format(lockedUntil - now)}.")
                : new Error(ErrorCodes.WrongPassword, "The current password is wrong; your password is unchanged.");
        }

        StoredBackup? backup = null;
        if (request.Backup is not null && (backup = KeyDirectory.ParseBackup(request.Backup, fingerprint: null)) is null)
        {
            return new Error(ErrorCodes.KeysInvalid, KeyDirectory.BackupRule.Replace("stored", "changed", StringComparison.Ordinal));
        }

        lockouts.Clear(client.ClientId);
        var previous = client.Generation;
        client.Generation = long.MaxValue; // the watcher must not take this change for a reset while it commits
        if (users.SetVerifier(client.ClientId, verifier, backup, out var backupStored) is not { } generation)
        {
            client.Generation = previous;
            return new Error(ErrorCodes.AccountRemoved, "Your account no longer exists.");
        }

        client.Generation = generation;

        // A backup of a key that is no longer current (another client published a newer one meanwhile) is dropped:
        // storing it would roll the user back to the older key.
        logger.LogInformation("{ClientId} changed their password; key backup {Backup}", client.ClientId,
            backup is null ? "not sent" : backupStored ? "re-wrapped" : "not of the current key, left as it was");
        return new PasswdOk();
    }

    /// <summary>
    /// Called by the maintenance loop. When any process changed the users table, refreshes the fake-challenge
    /// iteration count and closes connections whose user was removed or whose password was reset. Reads the version
    /// before the list of who is online, so a client that joins meanwhile is checked by <see cref="CloseIfStale"/>.
    /// </summary>
    public void CheckForChanges()
    {
        var version = users.Version();
        if (version == _seenVersion)
        {
            return;
        }

        handshakes.FakeIterations = users.MostCommonIterations() ?? options.ScramIterations;
        var online = router.Snapshot();
        var generations = users.Generations(online.Select(c => c.ClientId));
        foreach (var client in online)
        {
            CloseIfStale(client, generations.TryGetValue(client.ClientId, out var generation) ? generation : null);
        }

        _seenVersion = version; // only now: a pass that threw is repeated at the next tick

    }

    /// <summary>True while the account exists and its password has not changed since <paramref name="generation"/> was proved.</summary>
    public bool IsCurrent(string clientId, long generation) => users.Find(clientId)?.Generation is { } current && current <= generation;

    /// <summary>Closes <paramref name="client"/> if its account is gone or its password changed since it logged on.</summary>
    public void CloseIfStale(ClientConnection client) => CloseIfStale(client, users.Find(client.ClientId)?.Generation);

    private void CloseIfStale(ClientConnection client, long? generation)
    {
        if (generation is null)
        {
            logger.LogInformation("{ClientId} was removed; closing their connection", client.ClientId);
            client.Close("account removed", new Error(ErrorCodes.AccountRemoved, "Your account was removed by the server's administrator."));
        }
        else if (generation > client.Generation)
        {
            logger.LogInformation("{ClientId}'s password was reset; closing their connection", client.ClientId);
            client.Close("password reset", new Error(ErrorCodes.PasswordReset, "Your password was reset; log on again with the new one."));
        }
    }
}
