using System.Collections.Frozen;

namespace Parley.Protocol.Accounts;

/// <summary>
/// The rules a new account must follow (issue #3). Client and server share them: the client checks before it sends
/// anything, so the user hears the rule at once; the server checks again, because a client can be modified. Each
/// check names the rule that was broken. IDs created by the admin with <c>parley user add</c> follow the same rules
/// except that reserved names are allowed: reserving a name means only the operator can hand it out.
/// </summary>
public static class AccountRules
{
    public const int MinIdLength = 2;

    /// <summary>NIST SP 800-63B §5.1.1.2: at least 8 characters for a memorized secret chosen by the user.</summary>
    public const int DefaultMinPasswordLength = 8;

    /// <summary>PBKDF2 hashes the whole password; a bound keeps a pasted file from being one.</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>Names people could mistake for the server or its staff, or for "everyone" in a room (issue #4).</summary>
    public static readonly FrozenSet<string> ReservedIds = FrozenSet.Create(ClientIds.Comparer,
        "admin", "administrator", "root", "system", "server", "parley", "operator", "moderator", "mod", "support",
        "help", "everyone", "all", "here", "nobody", "anonymous", "postmaster", "security");

    /// <summary>Null when <paramref name="id"/> may be signed up for; otherwise the sentence naming the rule it breaks.</summary>
    public static string? CheckNewId(string? id, bool allowReserved = false)
    {
        if (string.IsNullOrEmpty(id) || id.Length < MinIdLength || id.Length > ClientIds.MaxLength)
        {
            return $"A client ID must be {MinIdLength} to {ClientIds.MaxLength} characters long.";
        }

        if (!char.IsAsciiLetter(id[0]))
        {
            return "A client ID must start with a letter (A to Z).";
        }

        if (!ClientIds.IsValid(id))
        {
            return "A client ID may contain only letters, digits, '_', '-' and '.'.";
        }

        if (!allowReserved && ReservedIds.Contains(id))
        {
            return $"The client ID '{id}' is reserved; choose another.";
        }

        return null;
    }

    /// <summary>
    /// Null when <paramref name="password"/> is acceptable for <paramref name="id"/>; otherwise the rule it breaks.
    /// Only a client can run this: the server never sees a password, only its SCRAM verifier.
    /// </summary>
    public static string? CheckNewPassword(string id, string password, int minLength)
    {
        if (password.Length < minLength)
        {
            return $"A password must be at least {minLength} characters long.";
        }

        if (password.Length > MaxPasswordLength)
        {
            return $"A password must be at most {MaxPasswordLength} characters long.";
        }

        if (string.Equals(password.Trim(), id, StringComparison.OrdinalIgnoreCase))
        {
            return "The password must not be the client ID.";
        }

        return null;
    }
}
