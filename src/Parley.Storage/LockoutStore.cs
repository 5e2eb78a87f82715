using Microsoft.Data.Sqlite;

namespace Parley.Storage;

/// <summary>How long a client ID is locked after failed log-ons (issue #3, seed 003's "three attempts").</summary>
/// <param name="Threshold">Failures that lock the ID; seed 003 allows three attempts.</param>
/// <param name="FirstLock">The first lock's length; each further failure doubles it.</param>
/// <param name="MaxLock">The cap, so a forgotten password costs a wait, not the account.</param>
public sealed record LockoutPolicy(int Threshold, TimeSpan FirstLock, TimeSpan MaxLock)
{
    /// <summary>The lock after <paramref name="failures"/> consecutive failures: none below the threshold, then FirstLock × 2^(failures − threshold), capped.</summary>
    public TimeSpan LockFor(long failures)
    {
        if (failures < Threshold)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(failures - Threshold, 40);
        var ticks = FirstLock.Ticks * Math.Pow(2, doublings);
        return ticks >= MaxLock.Ticks ? MaxLock : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>
/// Consecutive failed log-ons per client ID, durable so a restart does not reset a lock. Unknown IDs are counted
/// and locked exactly like real ones (keyed by the lower-cased ID), so a lock reveals nothing about which IDs exist.
/// A successful log-on clears the count; <c>parley user unlock</c> clears it from another process.
/// </summary>
public sealed class LockoutStore(ParleyDatabase database)
{
    /// <summary>When the ID's lock ends, or null when it is not locked at <paramref name="now"/>.</summary>
    public DateTimeOffset? LockedUntil(string clientId, DateTimeOffset now)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT locked_until FROM logon_failures WHERE id_key = $k AND locked_until > $now;";
        command.Parameters.AddWithValue("$k", Key(clientId));
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        return command.ExecuteScalar() is long until ? DateTimeOffset.FromUnixTimeMilliseconds(until) : null;
    }

    /// <summary>Counts one failure; returns when the lock it caused ends, or null when the ID is not (yet) locked.</summary>
    public DateTimeOffset? RecordFailure(string clientId, DateTimeOffset now, LockoutPolicy policy)
    {
        using var connection = database.OpenConnection();
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT INTO logon_failures(id_key, failures, locked_until, last_failure) VALUES ($k, 1, 0, $now)
            ON CONFLICT(id_key) DO UPDATE SET failures = failures + 1, last_failure = $now
            RETURNING failures;
            """;
        command.Parameters.AddWithValue("$k", Key(clientId));
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        var failures = (long)command.ExecuteScalar()!;
        var lockFor = policy.LockFor(failures);
        DateTimeOffset? until = null;
        if (lockFor > TimeSpan.Zero)
        {
            until = now + lockFor;
            command.CommandText = "UPDATE logon_failures SET locked_until = $until WHERE id_key = $k;";
            command.Parameters.AddWithValue("$until", until.Value.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        tx.Commit();
        return until;
    }

    /// <summary>Forgets the ID's failures and lifts its lock; false when there was nothing to forget.</summary>
    public bool Clear(string clientId)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM logon_failures WHERE id_key = $k;";
        command.Parameters.AddWithValue("$k", Key(clientId));
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Drops unlocked records whose last failure is older than <paramref name="forgetAfter"/>, so scans of made-up IDs do not pile up.</summary>
    public int Prune(DateTimeOffset now, TimeSpan forgetAfter)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM logon_failures WHERE locked_until <= $now AND last_failure <= $before;";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$before", (now - forgetAfter).ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery();
    }

    private static string Key(string clientId) => clientId.ToLowerInvariant();
}
