using System.Text;
using System.Text.RegularExpressions;
using Parley.Storage;

namespace Parley.Tests.Support;

/// <summary>
/// Issue #7 and seed 004: a server log holds events, never message text, passwords, keys, cookies, proofs, invite codes
/// or whole frames. Finds in log lines each marker (as text and as base64, <see cref="MarkerScan"/>), each known secret
/// value, any JSON frame, and any base64 or hex run long enough to be a key, cookie, proof or envelope.
/// </summary>
internal static partial class LogScan
{
    /// <summary>
    /// Everything wrong with <paramref name="lines"/>, one description per finding; empty when clean. Runs that are
    /// public by design (identity key fingerprints, which SECURITY.md §3.1 says the logs show) are in <paramref name="allowed"/>.
    /// </summary>
    public static List<string> Leaks(IEnumerable<string> lines, IReadOnlyCollection<string> markers, IReadOnlyCollection<string> secrets,
        IReadOnlyCollection<string> allowed)
    {
        var found = new List<string>();
        foreach (var line in lines)
        {
            if (MarkerScan.Find([.. markers], Encoding.UTF8.GetBytes(line)) is { } marker)
            {
                found.Add($"{marker} in: {line}");
            }

            found.AddRange(secrets.Where(s => line.Contains(s, StringComparison.OrdinalIgnoreCase)).Select(s => $"the secret \"{s}\" in: {line}"));
            if (line.Contains("\"msgtype\"", StringComparison.OrdinalIgnoreCase))
            {
                found.Add($"a frame's JSON in: {line}");
            }

            var rest = allowed.Aggregate(line, (text, value) => text.Replace(value, " ", StringComparison.OrdinalIgnoreCase));
            foreach (var blob in Base64Run().Matches(rest).Concat(Base64UrlRun().Matches(rest)).Select(m => m.Value)
                .Where(b => b.Any(char.IsAsciiDigit) && b.Any(char.IsAsciiLetter)))
            {
                found.Add($"a base64 run \"{blob}\" in: {line}");
            }

            found.AddRange(HexRun().Matches(rest).Select(m => $"a hex run \"{m.Value}\" in: {line}"));
        }

        return found;
    }

    public static void AssertClean(IEnumerable<string> lines, IReadOnlyCollection<string> markers, IReadOnlyCollection<string> secrets,
        IReadOnlyCollection<string> allowed, string where)
    {
        var leaks = Leaks(lines, markers, secrets, allowed);
        Assert.True(leaks.Count == 0, $"{leaks.Count} leaks in {where}:\n{string.Join('\n', leaks.Take(20))}");
    }

    /// <summary>The forms a secret of raw bytes takes in text: base64, base64url without padding, hex.</summary>
    public static IEnumerable<string> Forms(byte[] secret)
    {
        var base64 = Convert.ToBase64String(secret);
        yield return base64;
        yield return base64.TrimEnd('=').Replace('+', '-').Replace('/', '_');
        yield return Convert.ToHexString(secret);
    }

    /// <summary>
    /// What the database holds that must stay there, in every text form: verifiers, key backups, the server's secret
    /// and sign-up key (once made). Also returns the fingerprints of every published key, which logs may show.
    /// </summary>
    public static (List<string> Secrets, List<string> Fingerprints) StoredValues(ParleyDatabase database)
    {
        var secrets = new List<string>();
        var fingerprints = new List<string>();
        var keys = new KeyStore(database);
        foreach (var user in new UserStore(database).List())
        {
            secrets.AddRange(new[] { user.Verifier.Salt, user.Verifier.StoredKey, user.Verifier.ServerKey }.SelectMany(Forms));
            if (keys.Get(user.ClientId) is { } published)
            {
                fingerprints.AddRange(published.Keys.Select(k => k.Fingerprint));
                if (published.Backup is { } backup)
                {
                    secrets.AddRange(Forms(backup.Salt).Concat(Forms(backup.Box)));
                }
            }
        }

        // Read, not GetOrCreate: a scan must not write the database it scans.
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key IN ('server_secret', 'signup_key');";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            secrets.AddRange(Forms((byte[])reader.GetValue(0)));
        }

        return (secrets, fingerprints);
    }

    // 40 base64 characters are 30 bytes: less than any key, proof or envelope here (the shortest, a 32-byte key, is 43).
    [GeneratedRegex("[A-Za-z0-9+/]{40,}")]
    private static partial Regex Base64Run();

    [GeneratedRegex("[A-Za-z0-9_-]{40,}")]
    private static partial Regex Base64UrlRun();

    // 32 hex digits are 16 bytes: an AES-128 key, a GCM tag, a fingerprint (allowed), a SCRAM nonce.
    [GeneratedRegex("[0-9A-Fa-f]{32,}")]
    private static partial Regex HexRun();
}
