using System.Security.Cryptography;
using System.Text;

namespace Parley.Storage;

/// <summary>
/// Invite codes for the <c>invite</c> sign-up policy (issue #3), issued by <c>parley user invite</c>. Only a hash of
/// each code is stored, so reading the database does not hand out invites. A sign-up spends one use in the same
/// transaction that creates the account (<see cref="UserStore.SignUp"/>).
/// </summary>
public sealed class InviteStore(ParleyDatabase database)
{
    /// <summary>Creates a code good for <paramref name="uses"/> sign-ups until <paramref name="expiresAt"/>; returns it (shown once).</summary>
    public string Create(int uses, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(uses, 1);

        // 120 random bits in base32 groups: typed by hand, never guessed.
        var code = string.Join('-', Base32(RandomNumberGenerator.GetBytes(15)).Chunk(6).Select(c => new string(c)));
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO invites(code_hash, uses_left, expires_at, created_at) VALUES ($h, $uses, $expires, $now);";
        command.Parameters.AddWithValue("$h", Hash(code));
        command.Parameters.AddWithValue("$uses", uses);
        command.Parameters.AddWithValue("$expires", expiresAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
        return code;
    }

    /// <summary>True when <paramref name="code"/> has a use left and has not expired (a check does not spend it).</summary>
    public bool IsValid(string code, DateTimeOffset now)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM invites WHERE code_hash = $h AND uses_left > 0 AND expires_at > $now;";
        command.Parameters.AddWithValue("$h", Hash(code));
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Codes are compared without letter case, spaces or dashes, as people retype them.</summary>
    internal static byte[] Hash(string code)
    {
        var canonical = new string([.. code.Where(char.IsAsciiLetterOrDigit).Select(char.ToUpperInvariant)]);
        return SHA256.HashData(Encoding.ASCII.GetBytes("parley invite:" + canonical));
    }

    private static string Base32(byte[] bytes)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; // RFC 4648 §6
        var output = new StringBuilder(bytes.Length * 8 / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        return output.ToString();
    }
}
