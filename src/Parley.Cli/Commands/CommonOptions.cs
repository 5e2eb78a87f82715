using System.CommandLine;
using Parley.Protocol.Accounts;
using Parley.Protocol.Security;

namespace Parley.Cli.Commands;

/// <summary>Options shared by <c>parley server</c> and <c>parley user</c>, so both open the same database.</summary>
internal static class CommonOptions
{
    public static Option<string> DataDir() => new("--data-dir")
    {
        Description = "Directory of the SQLite database parley.db [env PARLEY_DATA_DIR; default $XDG_DATA_HOME/parley or ~/.local/share/parley]",
        DefaultValueFactory = _ => DefaultDataDirectory(),
    };

    public static Option<int> ScramIterations() => new("--scram-iterations")
    {
        Description = $"PBKDF2 iterations for new passwords (unknown IDs are challenged with the count most users have) ({Scram.MinimumIterations} to {Scram.MaximumIterations}) [env PARLEY_SCRAM_ITERATIONS]",
        DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("PARLEY_SCRAM_ITERATIONS"), out var n) ? n : Scram.DefaultIterations,
    };

    public static Option<int> MinPasswordLength() => new("--min-password-length")
    {
        Description = "Shortest password accepted for a new account or password",
        DefaultValueFactory = _ => AccountRules.DefaultMinPasswordLength,
    };

    public static Option<bool> PasswordStdin() => new("--password-stdin")
    {
        Description = "Read the password from the first line of standard input (for scripts)",
    };

    private static string DefaultDataDirectory()
    {
        if (Environment.GetEnvironmentVariable("PARLEY_DATA_DIR") is { Length: > 0 } fromEnv)
        {
            return fromEnv;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "parley");
    }
}
