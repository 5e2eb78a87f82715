using System.CommandLine;
using Parley.Protocol;
using Parley.Protocol.Security;
using Parley.Storage;

namespace Parley.Cli.Commands;

/// <summary>
/// <c>parley user add|list|remove</c>: subscriber provisioning on the server's database (seed 001's "list of
/// subscribers"). Works while the server runs (SQLite WAL). Only the SCRAM verifier is stored.
/// </summary>
internal static class UserCommand
{
    public static Command Create()
    {
        var command = new Command("user", "Manage subscribers in the server's database");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Command Add()
    {
        var id = new Argument<string>("client-id") { Description = ClientIds.Rule };
        var dataDir = CommonOptions.DataDir();
        var iterations = CommonOptions.ScramIterations();
        var stdin = CommonOptions.PasswordStdin();
        var command = new Command("add", "Add a subscriber; asks for the password without echo") { id, dataDir, iterations, stdin };
        command.SetAction(result =>
        {
            var clientId = result.GetValue(id)!;
            if (!ClientIds.IsValid(clientId))
            {
                Console.Error.WriteLine(ClientIds.Rule);
                return 2;
            }

            var rounds = result.GetValue(iterations);
            if (rounds is < Scram.MinimumIterations or > Scram.MaximumIterations)
            {
                Console.Error.WriteLine($"--scram-iterations must be between {Scram.MinimumIterations} (RFC 7677) and {Scram.MaximumIterations} (what clients accept).");
                return 2;
            }

            var password = ReadNewPassword(result.GetValue(stdin));
            if (password is null)
            {
                return 2;
            }

            var users = new UserStore(ParleyDatabase.Open(result.GetValue(dataDir)!));
            if (!users.TryAdd(clientId, Scram.CreateVerifier(password, rounds)))
            {
                Console.Error.WriteLine($"The client ID '{clientId}' is already taken (IDs ignore letter case).");
                return 1;
            }

            Console.WriteLine($"Added {clientId}");
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var dataDir = CommonOptions.DataDir();
        var command = new Command("list", "List subscribers") { dataDir };
        command.SetAction(result =>
        {
            var users = new UserStore(ParleyDatabase.Open(result.GetValue(dataDir)!)).List();
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
        var dataDir = CommonOptions.DataDir();
        var command = new Command("remove", "Remove a subscriber (their past messages stay in the other party's history)") { id, dataDir };
        command.SetAction(result =>
        {
            var clientId = result.GetValue(id)!;
            if (!new UserStore(ParleyDatabase.Open(result.GetValue(dataDir)!)).Remove(clientId))
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
                Console.Error.WriteLine("The passwords differ; nothing was added.");
                return null;
            }
        }

        if (string.IsNullOrEmpty(password))
        {
            Console.Error.WriteLine("The password must not be empty; nothing was added.");
            return null;
        }

        return password;
    }
}
