import Foundation

/// A dataset laid out as one folder per class (`root/<class>/<image>.png|jpg`), as torchvision's
/// `ImageFolder` reads it: classes are the sub-folders in sorted order, their index the label.
public struct ImageFolder: Sendable {
    /// Image files and their labels, in class order then file-name order.
    public var files: [(path: String, label: Int)]
    /// The class folder names, in label order.
    public var classes: [String]

    /// Lists `root`; files that are not JPEG or PNG by extension are skipped.
    public static func load(_ root: String) throws(ImageDataset.Error) -> ImageFolder {
        let manager = FileManager.default
        let classes: [String]
        do {
            classes = try manager.contentsOfDirectory(atPath: root).filter { name in
                var isFolder: ObjCBool = false
                return !name.hasPrefix(".") && manager.fileExists(atPath: "\(root)/\(name)", isDirectory: &isFolder) && isFolder.boolValue
            }.sorted()
        } catch {
            throw ImageDataset.Error(path: root, reason: "cannot be listed (\(error.localizedDescription))")
        }
        guard !classes.isEmpty else { throw ImageDataset.Error(path: root, reason: "has no class folders") }
        var files: [(String, Int)] = []
        for (label, name) in classes.enumerated() {
            let folder = "\(root)/\(name)"
            let names = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            for file in names where ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: file).pathExtension.lowercased()) {
                files.append(("\(folder)/\(file)", label))
            }
        }
        guard !files.isEmpty else { throw ImageDataset.Error(path: root, reason: "holds no .png or .jpg images in its class folders") }
        return ImageFolder(files: files, classes: classes)
    }
}
