using System.CommandLine;
using Parley.Cli.Configuration;

namespace Parley.Cli.Commands;

/// <summary>
/// Options shared by <c>parley server</c> and <c>parley user</c>. The shared settings are layered exactly as the
/// server layers them (parley.json &lt; PARLEY_* &lt; flags), so <c>parley user add</c> opens the database a
/// parley.json points the server to.
/// </summary>
internal static class CommonOptions
{
    /// <summary>--data-dir, with --config.</summary>
    public static SettingOptions Database() => new([ServerSettings.DataDir]);

    /// <summary>--data-dir and what a new password needs: --scram-iterations and --min-password-length, with --config.</summary>
    public static SettingOptions Passwords() => new([ServerSettings.DataDir, ServerSettings.ScramIterations, ServerSettings.MinPasswordLength]);

    public static Option<bool> PasswordStdin() => new("--password-stdin")
    {
        Description = "Read the password from the first line of standard input (for scripts)",
    };

    /// <summary>The layered settings, or null after printing to stderr which one is wrong (the caller exits with 2).</summary>
    public static ServerConfiguration? Resolve(SettingOptions settings, ParseResult result)
    {
        try
        {
            return settings.Resolve(result);
        }
        catch (InvalidSettingException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }
}
