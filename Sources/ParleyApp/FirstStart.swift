import Foundation
import Logging
import ParleyCore
import ParleyHTTP
import ParleyStore

/// On a database with no organization, creates one with an owner and a site, and prints how to
/// sign in and embed the widget, once.
enum FirstStart {
    static func run(stores: Stores, configuration: ParleyConfiguration, output: @Sendable (String) -> Void) async throws
    {
        let generated = configuration.adminPassword == nil
        let password = configuration.adminPassword ?? Secrets.password()
        let email = configuration.adminEmail ?? "admin@example.com"
        let created = try await stores.createFirstOrganization(
            .init(
                name: "My organization",
                owner: .init(email: email, name: "Owner", role: .owner, password: password),
                site: .init(name: "Website")
            ))
        guard let created, let site = created.site else { return }
        output(
            """

            Parley is set up. Sign in at \(configuration.baseURL)/app
              Owner email:    \(created.owner.email)
              Owner password: \(generated ? password + "   (generated; shown only this once)" : "(as set in PARLEY_ADMIN_PASSWORD)")
              Site key:       \(site.publicKey)
              Widget snippet: \(SiteResponse.snippet(siteKey: site.publicKey, baseURL: configuration.baseURL))

            """)
    }
}
