// The rules every store checks before writing, with messages fit to show (the schemas enforce the same limits).
import Foundation

public enum CatalogValidation {
    public static func validate(_ new: NewFiledReport) throws {
        guard new.expected.index >= 0 && new.expected.index < 1000 else { throw CatalogError.invalid("class \(new.expected.index) is not an ImageNet class (0-999)") }
        guard new.note.unicodeScalars.count <= CatalogLimits.noteLength else { throw CatalogError.invalid("the note is \(new.note.unicodeScalars.count) characters; the limit is \(CatalogLimits.noteLength)") }
        if let reporter = new.reporter, reporter.isEmpty || reporter.unicodeScalars.count > CatalogLimits.reporterLength {
            throw CatalogError.invalid("the reporter's name must be 1 to \(CatalogLimits.reporterLength) characters")
        }
        guard ImageVault.isSHA256(new.image.sha256) else {
            throw CatalogError.invalid("'\(new.image.sha256)' is not a SHA-256")
        }
    }

    public static func validate(_ category: Category) throws {
        guard Category.slug(for: category.slug) == category.slug else { throw CatalogError.invalid("'\(category.slug)' is not a category slug (a-z, 0-9, -)") }
        guard !category.title.isEmpty, category.title.unicodeScalars.count <= CatalogLimits.categoryTitleLength else {
            throw CatalogError.invalid("a category title must be 1 to \(CatalogLimits.categoryTitleLength) characters")
        }
    }
}
