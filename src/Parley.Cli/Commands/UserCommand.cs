using System.CommandLine;
using Parley.Protocol.Accounts;
using Parley.Protocol.Security;
using Parley.Storage;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley user add|list|remove|reset-password|unlock|invite</c>: subscriber provisioning on the server's database
/// (seed 001's "list of subscribers"; issue #3). Works while the server runs (SQLite WAL); the server notices a
/// removal or reset within a second and ends that user's connection. Only the SCRAM verifier is stored.
/// </summary>
internal static class UserCommand
{
    public static Command Create()
    {
        var command = new Command("user", "Manage subscribers in the server's database");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        command.Subcommands.Add(ResetPassword());
        command.Subcommands.Add(Unlock());
        command.Subcommands.Add(Invite());
        return command;
    }

    private static Command Add()
    {
        var id = new Argument<string>("client-id") { Description = "2 to 32 letters, digits, '_', '-' or '.', starting with a letter (reserved names allowed here)" };
        var settings = CommonOptions.Passwords();
        var stdin = CommonOptions.PasswordStdin();
        var command = new Command("add", "Add a subscriber; asks for the password without echo") { id, stdin };
        settings.AddTo(command);
        command.SetAction(result =>
        {
            var clientId = result.GetValue(id)!;
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            if (AccountRules.CheckNewId(clientId, allowReserved: true) is { } rule)
            {
                Console.Error.WriteLine(rule);
                return 2;
            }

            if (NewVerifier(clientId, options.ScramIterations, options.MinPasswordLength, result.GetValue(stdin)) is not { } verifier)
            {
                return 2;
            }

            var users = new UserStore(ParleyDatabase.Open(options.DataDirectory));
            if (!users.TryAdd(clientId, verifier))
            {
                Console.Error.WriteLine($"The client ID '{clientId}' is already taken (IDs ignore letter case).");
                return 1;
            }

            Console.WriteLine($"Added {clientId}");
            return 0;
        });
        return command;
    }

    private static Command ResetPassword()
    {
        var id = new Argument<string>("client-id");
        var settings = CommonOptions.Passwords();
        var stdin = CommonOptions.PasswordStdin();
        var command = new Command("reset-password", "Set a subscriber's password (a running server disconnects them) and lift any lock") { id, stdin };
        settings.AddTo(command);
        command.SetAction(result =>
        {
            var clientId = result.GetValue(id)!;
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            var database = ParleyDatabase.Open(options.DataDirectory);
            var users = new UserStore(database);
            if (users.Find(clientId) is null)
            {
                Console.Error.WriteLine($"No subscriber '{clientId}'.");
                return 1;
            }

            if (NewVerifier(clientId, options.ScramIterations, options.MinPasswordLength, result.GetValue(stdin)) is not { } verifier)
            {
                return 2;
            }

            if (users.SetVerifier(clientId, verifier) is null)
            {
                Console.Error.WriteLine($"No subscriber '{clientId}'.");
                return 1;
            }

            new LockoutStore(database).Clear(clientId);
            Console.WriteLine($"Reset the password of {clientId}");
            return 0;
        });
        return command;
    }

    private static Command Unlock()
    {
        var id = new Argument<string>("client-id");
        var settings = CommonOptions.Database();
        var command = new Command("unlock", "Lift the lock that failed log-ons put on a client ID") { id };
        settings.AddTo(command);
        command.SetAction(result =>
        {
            var clientId = result.GetValue(id)!;
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            var cleared = new LockoutStore(ParleyDatabase.Open(options.DataDirectory)).Clear(clientId);
            Console.WriteLine(cleared ? $"Unlocked {clientId}" : $"{clientId} was not locked and had no failed log-ons");
            return 0;
        });
        return command;
    }

    private static Command Invite()
    {
        var settings = CommonOptions.Database();
        var uses = new Option<int>("--uses") { Description = "How many sign-ups the code allows", DefaultValueFactory = _ => 1 };
        var days = new Option<double>("--days") { Description = "Days until the code expires", DefaultValueFactory = _ => 7 };
        var command = new Command("invite", "Issue an invite code for sign-up when the server runs with --signup invite") { uses, days };
        settings.AddTo(command);
        command.SetAction(result =>
        {
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            var count = result.GetValue(uses);
            var lifetime = result.GetValue(days);
            if (count < 1 || lifetime is <= 0 or > 3650)
            {
                Console.Error.WriteLine("--uses must be at least 1 and --days between 0 and 3650.");
                return 2;
            }

            var now = DateTimeOffset.UtcNow;
            var expires = now.AddDays(lifetime);
            var code = new InviteStore(ParleyDatabase.Open(options.DataDirectory)).Create(count, expires, now);
            Console.WriteLine(code);
            Console.Error.WriteLine($"Invite code for {count} sign-up(s), valid until {expires:yyyy-MM-dd HH:mm}Z. It is shown only now; only its hash is stored.");
            return 0;
        });
        return command;
    }

    /// <summary>Reads a new password, checks it against the account rules and returns its verifier; null after printing why not.</summary>
    private static ScramVerifier? NewVerifier(string clientId, int rounds, int minLength, bool fromStdin)
    {
        if (rounds is < Scram.MinimumIterations or > Scram.MaximumIterations)
        {
            Console.Error.WriteLine($"--scram-iterations must be between {Scram.MinimumIterations} (RFC 7677) and {Scram.MaximumIterations} (what clients accept).");
            return null;
        }

        var password = ReadNewPassword(fromStdin);
        if (password is null)
        {
            return null;
        }

        if (AccountRules.CheckNewPassword(clientId, password, minLength) is { } rule)
        {
            Console.Error.WriteLine(rule + " Nothing was changed.");
            return null;
        }

        return Scram.CreateVerifier(password, rounds);
    }

    private static Command List()
    {
        var settings = CommonOptions.Database();
        var command = new Command("list", "List subscribers");
        settings.AddTo(command);
        command.SetAction(result =>
        {
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            var users = new UserStore(ParleyDatabase.Open(options.DataDirectory)).List();
            foreach (var user in users)
            {
                Console.WriteLine($"{user.ClientId}\tadded {user.CreatedAt:yyyy-MM-dd HH:mm:ss}Z");
            }

            Console.WriteLine(users.Count == 1 ? "1 subscriber" : $"{users.Count} subscribers");
            return 0;
        });
        return command;
    }

    private static Command Remove()
    {
        var id = new Argument<string>("client-id");
        var settings = CommonOptions.Database();
        var command = new Command("remove", "Remove a subscriber (their past messages stay in the other party's history)") { id };
        settings.AddTo(command);
        command.SetAction(result =>
        {
            var clientId = result.GetValue(id)!;
            if (CommonOptions.Resolve(settings, result)?.Server is not { } options)
            {
                return 2;
            }

            if (!new UserStore(ParleyDatabase.Open(options.DataDirectory)).Remove(clientId))
            {
                Console.Error.WriteLine($"No subscriber '{clientId}'.");
                return 1;
            }

            Console.WriteLine($"Removed {clientId}");
            return 0;
        });
        return command;
    }

    private static string? ReadNewPassword(bool fromStdin)
    {
        string? password;
        if (fromStdin)
        {
            password = PasswordReader.FromStdin();
        }
        else if (Console.IsInputRedirected)
        {
            Console.Error.WriteLine("Standard input is not a terminal: pass --password-stdin and write the password on its first line.");
            return null;
        }
        else
        {
            password = PasswordReader.FromTerminal("Password: ");
            if (password != PasswordReader.FromTerminal("Repeat password: "))
            {
                Console.Error.WriteLine("The passwords differ; nothing was changed.");
                return null;
            }
        }

        if (string.IsNullOrEmpty(password))
        {
            Console.Error.WriteLine("The password must not be empty; nothing was changed.");
            return null;
        }

        return password;
    }
}
